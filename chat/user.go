package chat

import (
	"database/sql"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// User is a person or program known to Switchboard, per tenant. An end
// user acting through a program has a scoped id ("<programId>/<userId>").
type User struct {
	Tenant     string   `gorm:"column:tenant;primaryKey"`
	ID         string   `gorm:"column:id;primaryKey"`
	ProgramID  string   `gorm:"column:program_id"`
	Role       string   `gorm:"column:role"`
	Username   string   `gorm:"column:username"`
	FullName   string   `gorm:"column:full_name"`
	Salutation string   `gorm:"column:salutation"`
	Gender     string   `gorm:"column:gender"`
	DOB        string   `gorm:"column:dob"`
	Email      string   `gorm:"column:email"`
	Latitude   *float64 `gorm:"column:latitude"`
	Longitude  *float64 `gorm:"column:longitude"`
	Status     string   `gorm:"column:status"`
	// StatusMessage is the user's own words about its status.
	StatusMessage string `gorm:"column:status_message"`
	LastSeen      int64  `gorm:"column:last_seen"`
	// Times are Unix milliseconds; the tags make gorm's own timestamps
	// (an update that does not set updated_at) milliseconds too, where
	// its default for an integer field is seconds.
	CreatedAt int64 `gorm:"column:created_at;autoCreateTime:milli"`
	UpdatedAt int64 `gorm:"column:updated_at;autoUpdateTime:milli"`
}

// TableName maps User to its table.
func (User) TableName() string { return "users" }

// DisplayName is the name shown to others: the profile's full name, else
// the username, else the id.
func (u User) DisplayName() string {
	switch {
	case u.FullName != "":
		return u.FullName
	case u.Username != "":
		return u.Username
	default:
		return u.ID
	}
}

// Profile is what a user says about itself (the livechat userObject).
// Nil fields are left as stored.
type Profile struct {
	FullName, Salutation, Gender, DOB, Email *string
	Latitude, Longitude                      *float64
}

// EnsureUser records that a principal exists (first authentication)
// without touching a profile it already has, except the token's name when
// the profile has none.
//
// A program's id is its client id, as it is, and a person's is its token
// subject: the two could be equal. Whichever was recorded first keeps the
// id; the other is refused (FORBIDDEN), rather than sharing its row, its
// sessions and its room. A person may still change role (user to
// operator and back).
func EnsureUser(tx *gorm.DB, u User) error {
	n, err := database.Exec(tx, `INSERT INTO users (`+userColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET role = excluded.role, username = excluded.username
		WHERE (users.role = ?) = (excluded.role = ?)`,
		u.Tenant, u.ID, u.ProgramID, u.Role, u.Username, u.FullName, u.Salutation, u.Gender, u.DOB, u.Email,
		u.Latitude, u.Longitude, u.Status, u.StatusMessage, u.LastSeen, u.CreatedAt, u.UpdatedAt,
		string(switchboard.RoleProgram), string(switchboard.RoleProgram))
	if err == nil && n == 0 {
		err = switchboard.Errorf(switchboard.EFORBIDDEN, "the id %q is another kind of principal's (a program's or a person's)", u.ID)
	}
	return err
}

// UpdateProfile upserts the user and overwrites the profile fields given.
func UpdateProfile(tx *gorm.DB, u User, p Profile, now int64) error {
	set := map[string]any{"updated_at": now}
	str := func(col string, v *string, dst *string) {
		if v != nil {
			set[col] = *v
			*dst = *v
		}
	}
	str("full_name", p.FullName, &u.FullName)
	str("salutation", p.Salutation, &u.Salutation)
	str("gender", p.Gender, &u.Gender)
	str("dob", p.DOB, &u.DOB)
	str("email", p.Email, &u.Email)
	if p.Latitude != nil {
		set["latitude"], u.Latitude = *p.Latitude, p.Latitude
	}
	if p.Longitude != nil {
		set["longitude"], u.Longitude = *p.Longitude, p.Longitude
	}
	u.CreatedAt, u.UpdatedAt = now, now
	if u.Status == "" {
		u.Status = "AVAILABLE"
	}
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant"}, {Name: "id"}},
		DoUpdates: clause.Assignments(set),
	}).Create(&u).Error
}

// FindUser returns the user or found=false.
func FindUser(db *gorm.DB, tenant, id string) (u User, found bool, err error) {
	// Every connection's presence change reads its user: raw SQL, not gorm.
	err = database.QueryRow(db, `SELECT `+userColumns+` FROM users WHERE tenant = ? AND id = ?`, tenant, id).
		Scan(&u.Tenant, &u.ID, &u.ProgramID, &u.Role, &u.Username, &u.FullName, &u.Salutation, &u.Gender,
			&u.DOB, &u.Email, &u.Latitude, &u.Longitude, &u.Status, &u.StatusMessage, &u.LastSeen,
			&u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, false, nil
	}
	return u, err == nil, err
}

// userColumns are a User's columns in FindUser's and EnsureUser's order.
const userColumns = `tenant, id, program_id, role, username, full_name, salutation, gender, dob, email,
	latitude, longitude, status, status_message, last_seen, created_at, updated_at`
