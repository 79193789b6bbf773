package chat

// How sessions and users look to one viewer: the payload classes a
// command answers with, built from the stored records.

import "gorm.io/gorm"

// userDetailsOf renders users as viewer sees them, in the order of ids;
// an id without a stored user is shown by its id alone.
func (s *Service) userDetailsOf(tenant string, users map[string]User, ids []string, viewer string) []UserDetails {
	out := make([]UserDetails, 0, len(ids))
	for _, id := range ids {
		u, ok := users[id]
		if !ok {
			u = User{Tenant: tenant, ID: id}
		}
		out = append(out, userDetails(u, s.presence.Online(tenant, id), viewer))
	}
	return out
}

// basics renders sessions with their members.
func (s *Service) basics(db *gorm.DB, tenant string, sessions []Session, viewer string) ([]SessionBasic, error) {
	ids := make([]string, len(sessions))
	for i, sess := range sessions {
		ids[i] = sess.ID
	}
	members, err := MembersOf(db, ids)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var userIDs []string
	for _, ms := range members {
		for _, m := range ms {
			if !seen[m.UserID] {
				seen[m.UserID] = true
				userIDs = append(userIDs, m.UserID)
			}
		}
	}
	users, err := FindUsers(db, tenant, userIDs)
	if err != nil {
		return nil, err
	}
	out := make([]SessionBasic, len(sessions))
	for i, sess := range sessions {
		b := SessionBasic{ClientID: sess.Tenant, ChatSessionID: sess.ID, Title: sess.Title, Desc: sess.Description,
			SessionType: string(sess.Type), Creator: sess.CreatorID, CreatedTS: FormatMillis(sess.CreatedAt),
			LastUpdatedTS: FormatMillis(sess.UpdatedAt), Members: []UserDetails{}}
		var active []string
		var lastLeft string
		for _, m := range members[sess.ID] {
			if m.Active() {
				active = append(active, m.UserID)
			} else if lastLeft == "" {
				lastLeft = m.UserID // MembersOf lists the last to leave first
			}
		}
		b.Members = s.userDetailsOf(tenant, users, active, viewer)
		if lastLeft != "" {
			d := s.userDetailsOf(tenant, users, []string{lastLeft}, viewer)[0]
			b.UserThatLeftForLast = &d
		}
		out[i] = b
	}
	return out, nil
}

func (s *Service) basic(db *gorm.DB, sess Session, viewer string) (SessionBasic, error) {
	bs, err := s.basics(db, sess.Tenant, []Session{sess}, viewer)
	if err != nil {
		return SessionBasic{}, err
	}
	return bs[0], nil
}

// Page is an offset and a count of results: Limit 0 is no limit, below 0
// none (only the counts are wanted).
type Page struct{ Offset, Limit int }

// details renders member sessions as the viewer sees them, each with its
// latest messages (msgs), or with the messages given when given is set.
func (s *Service) details(db *gorm.DB, tenant, viewer string, ms []MemberSession, msgs Page, given map[string][]Message) ([]SessionDetails, error) {
	sessions := make([]Session, len(ms))
	ids := make([]string, len(ms))
	for i, m := range ms {
		sessions[i], ids[i] = m.Session, m.ID
	}
	basics, err := s.basics(db, tenant, sessions, viewer)
	if err != nil {
		return nil, err
	}
	latest := given
	if latest == nil {
		if latest, err = LatestMessages(db, ids, msgs.Offset, msgs.Limit); err != nil {
			return nil, err
		}
	}
	var all []Message
	for _, l := range latest {
		all = append(all, l...)
	}
	readAt, err := ReadTimes(db, viewer, all)
	if err != nil {
		return nil, err
	}
	counts, err := CountMessages(db, ids)
	if err != nil {
		return nil, err
	}
	unread, err := UnreadCounts(db, viewer, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SessionDetails, len(ms))
	for i, m := range ms {
		d := SessionDetails{SessionBasic: basics[i], Messages: []MessageDetails{}, Starred: m.Starred,
			Archived: m.Archived, Count: counts[m.ID], UnreadCount: unread[m.ID]}
		for _, msg := range latest[m.ID] {
			d.Messages = append(d.Messages, messageDetails(msg, readAt[msg.Seq]))
		}
		out[i] = d
	}
	return out, nil
}
