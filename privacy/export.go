package privacy

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/tickets"
	"github.com/switchboard-chat/switchboard/visitors"
)

// Data is everything Switchboard holds about one user of a tenant, as
// the export sends it: its profile, the tickets it opened with their
// whole conversations (the operators' replies were written to it) and
// audit trails, the messages it sent in other conversations (what others
// sent there is theirs), its memberships and read receipts elsewhere, and
// its visitor records. Times are ISO 8601 UTC.
type Data struct {
	UserID        string           `json:"userId"`
	Tenant        string           `json:"tenant"`
	ExportedAt    string           `json:"exportedAt"`
	Profile       map[string]any   `json:"profile"`
	Tickets       []map[string]any `json:"tickets"`
	OtherMessages []map[string]any `json:"otherMessages"`
	Memberships   []map[string]any `json:"memberships"`
	ReadReceipts  []map[string]any `json:"readReceipts"`
	Visitors      []map[string]any `json:"visitors"`
}

// counts is what data_requests records of an export.
func (d Data) counts() map[string]int64 {
	return map[string]int64{"tickets": int64(len(d.Tickets)), "otherMessages": int64(len(d.OtherMessages)),
		"visitors": int64(len(d.Visitors))}
}

// collect reads Data for userID of tenant; NOT_FOUND when Switchboard
// holds nothing of it.
func collect(tx *gorm.DB, tenant, userID string) (Data, error) {
	d := Data{UserID: userID, Tenant: tenant, Tickets: []map[string]any{}, OtherMessages: []map[string]any{},
		Memberships: []map[string]any{}, ReadReceipts: []map[string]any{}, Visitors: []map[string]any{}}
	chats := chat.StoreIn(tx)
	u, found, err := chats.FindUser(tenant, userID)
	if err != nil {
		return d, err
	}
	if found {
		d.Profile = profileWire(u)
	}
	owned, err := tickets.OwnedBy(tx, tenant, userID)
	if err != nil {
		return d, err
	}
	ids := make([]string, 0, len(owned))
	for _, t := range owned {
		w, err := ticketWire(tx, t)
		if err != nil {
			return d, err
		}
		d.Tickets = append(d.Tickets, w)
		ids = append(ids, t.ID)
	}
	rest, err := chats.UserDataOf(tenant, userID, ids)
	if err != nil {
		return d, err
	}
	for _, m := range rest.Messages {
		d.OtherMessages = append(d.OtherMessages, messageWire(m))
	}
	for _, m := range rest.Memberships {
		d.Memberships = append(d.Memberships, map[string]any{"sessionId": m.SessionID, "role": m.Role,
			"joinedAt": chat.FormatMillis(m.JoinedAt), "leftAt": chat.FormatMillis(m.LeftAt),
			"starred": m.Starred, "archived": m.Archived})
	}
	for _, r := range rest.Reads {
		d.ReadReceipts = append(d.ReadReceipts, map[string]any{"sessionId": r.SessionID, "seq": r.Seq,
			"readAt": chat.FormatMillis(r.ReadAt)})
	}
	records, err := visitors.RecordsOf(tx, tenant, userID)
	if err != nil {
		return d, err
	}
	for _, v := range records {
		d.Visitors = append(d.Visitors, visitorWire(v))
	}
	if !found && len(owned) == 0 && len(records) == 0 && len(rest.Messages) == 0 {
		return d, switchboard.Errorf(switchboard.ENOTFOUND, "no user %s", userID)
	}
	return d, nil
}

func profileWire(u chat.User) map[string]any {
	return map[string]any{"userId": u.ID, "programId": u.ProgramID, "role": u.Role, "username": u.Username,
		"fullNm": u.FullName, "salutation": u.Salutation, "gender": u.Gender, "dob": u.DOB, "email": u.Email,
		"latitude": u.Latitude, "longitude": u.Longitude, "status": u.Status, "statusMessage": u.StatusMessage,
		"lastSeen": chat.FormatMillis(u.LastSeen), "createdAt": chat.FormatMillis(u.CreatedAt),
		"updatedAt": chat.FormatMillis(u.UpdatedAt)}
}

// ticketWire is a ticket as the livechat protocol shows it, with its
// visitor context, close time, audit trail and every message.
func ticketWire(tx *gorm.DB, t tickets.Ticket) (map[string]any, error) {
	w := t.Wire()
	w["closedAt"] = chat.FormatMillis(t.ClosedAt)
	trail, err := tickets.AuditTrail(tx, t.ID)
	if err != nil {
		return nil, err
	}
	audit := make([]map[string]any, 0, len(trail))
	for _, e := range trail {
		audit = append(audit, map[string]any{"action": string(e.Action), "actorId": e.ActorID,
			"fromStatus": int(e.FromStatus), "toStatus": int(e.ToStatus), "fromHandler": e.FromHandler,
			"toHandler": e.ToHandler, "at": chat.FormatMillis(e.At)})
	}
	w["auditTrail"] = audit
	ms, err := chat.StoreIn(tx).MessagesSince(t.ID, chat.Since{})
	if err != nil {
		return nil, err
	}
	messages := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		messages = append(messages, messageWire(m))
	}
	w["messages"] = messages
	return w, nil
}

// messageWire is a message as the livechat protocol shows it, with its
// kind, receipt times and edits.
func messageWire(m chat.Message) map[string]any {
	return map[string]any{"sessionId": m.SessionID, "messageId": m.ID, "kind": m.Kind, "type": m.Type,
		"content": m.Content, "encoding": m.Encoding, "senderId": m.SenderID, "senderNm": m.SenderName,
		"recipientId": m.RecipientID, "recipientNm": m.RecipientName, "statusId": m.StatusID,
		"createdAt": chat.FormatMillis(m.CreatedAt), "deliveredAt": chat.FormatMillis(m.DeliveredAt),
		"readAt": chat.FormatMillis(m.ReadAt), "editedAt": chat.FormatMillis(m.EditedAt),
		"removedAt": chat.FormatMillis(m.RemovedAt), "metadata": m.Metadata}
}

func visitorWire(v visitors.Record) map[string]any {
	creds := make([]map[string]any, 0, len(v.Credentials))
	for _, c := range v.Credentials {
		creds = append(creds, map[string]any{"family": c.Family, "createdAt": chat.FormatMillis(c.CreatedAt),
			"expiresAt": chat.FormatMillis(c.ExpiresAt), "usedAt": chat.FormatMillis(c.UsedAt)})
	}
	return map[string]any{"visitorId": v.ID, "subject": v.Subject, "name": v.Name, "email": v.Email,
		"createdAt": chat.FormatMillis(v.CreatedAt), "seenAt": chat.FormatMillis(v.SeenAt),
		"refreshCredentials": creds}
}
