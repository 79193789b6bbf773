package tickets

import (
	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
)

// MessageInput is what a client may say about a new message; everything
// else (sender, recipient, time, status) the server decides.
type MessageInput struct {
	Type     int
	Content  string
	Encoding string
}

// SendMessage stores a message from the ticket's owner to its handler or
// back, and sends it to the recipient and to the sender's other sockets.
// The messageId is the client's GUID: a repeat by the same sender is a
// no-op. The recipient is the ticket's current other party, whatever the
// client named: a message to a ticket no one handles yet goes to every
// subscribed operator.
func (s *Service) SendMessage(c Caller, ticketID, messageID string, in MessageInput, done database.Done) {
	if c.Principal.Role == switchboard.RoleProgram && c.UserID == "" {
		done.Call(switchboard.Errorf(switchboard.EFORBIDDEN, "subscribe for an end user first"))
		return
	}
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		m, evs, err := sendMessage(tx, c, ticketID, messageID, in, "", s.millis())
		if err == nil && m.ID != "" && s.committer.Streaming() {
			evs = append(evs, chat.MessageSentEvent(m, nil))
		}
		return evs, err
	}, done)
}

// sendMessage is SendMessage's work inside a transaction, for either
// protocol: it returns the stored message (zero for a retry, which stores
// and announces nothing) and the events of both protocols. chatSocket is
// the chat-protocol socket the message came from, if it did; now is the
// time the message is stored at.
func sendMessage(tx *gorm.DB, c Caller, ticketID, messageID string, in MessageInput, chatSocket string, now int64) (chat.Message, []switchboard.Event, error) {
	t, err := see(tx, c, ticketID)
	if err != nil {
		return chat.Message{}, nil, err
	}
	recipientRoom, fromOwner, err := party(c, t)
	if err != nil {
		// A retry of a message stored before the ticket changed hands
		// still succeeds; anything else from a non-party is refused.
		if retry, rerr := isRetry(tx, c, t.ID, messageID); rerr != nil || retry {
			return chat.Message{}, nil, rerr
		}
		return chat.Message{}, nil, err
	}
	if t.Status == StatusClosed {
		// A retry of a message stored before the close still succeeds.
		if retry, err := isRetry(tx, c, t.ID, messageID); err != nil || retry {
			return chat.Message{}, nil, err
		}
		return chat.Message{}, nil, switchboard.Errorf(switchboard.ETICKETCLOSED, "ticket %s is closed", t.ID)
	}
	m := chat.Message{ID: messageID, SessionID: t.ID, Tenant: t.Tenant, Kind: chat.KindUser,
		Type: in.Type, Content: in.Content, Encoding: in.Encoding, ProgramID: t.ProgramID,
		SenderID: c.UserID, SenderName: c.Name, StatusID: chat.StatusSent, CreatedAt: now}
	if fromOwner {
		m.RecipientID, m.RecipientName = t.HandlerID, t.HandlerName
	} else {
		m.RecipientID, m.RecipientName = t.OwnerID, t.OwnerName
	}
	if recipientRoom == "" {
		recipientRoom = switchboard.OperatorsRoom(t.Tenant)
	}
	if inserted, err := chat.StoreIn(tx).InsertMessage(&m); err != nil || !inserted {
		return chat.Message{}, nil, duplicateMessage(tx, c, t.ID, messageID, err)
	}
	// Room for the message, its two chat-protocol copies and a response.
	evs := make([]switchboard.Event, 1, 4)
	evs[0] = switchboard.Event{Name: "messageUpdated", Args: []any{MessageWire(m)},
		To: []string{recipientRoom, callerRoom(c)}, ExceptSocket: c.Socket, SessionID: t.ID}
	// The same message through the chat protocol, to the session's members.
	evs = chat.AppendMessageEvents(evs, "chatMsg", m, t.members(), chatSocket)
	counts, err := chat.StoreIn(tx).UnreadEvents(t.Tenant, t.ID, m.RecipientID)
	if err != nil {
		return m, nil, err
	}
	evs = append(evs, counts...)
	responded, err := noteResponse(tx, &t, fromOwner, now)
	if err != nil {
		return m, nil, err
	}
	return m, append(evs, responded...), nil
}

// duplicateMessage answers a messageId that is already stored: a retry by
// its sender on the same ticket is a no-op, anyone else's is CONFLICT.
func duplicateMessage(tx *gorm.DB, c Caller, ticketID, messageID string, insertErr error) error {
	if insertErr != nil {
		return insertErr
	}
	if retry, err := isRetry(tx, c, ticketID, messageID); err != nil || retry {
		return err
	}
	return switchboard.Errorf(switchboard.ECONFLICT, "message id %s is taken", messageID)
}

// isRetry reports whether the caller already stored messageID on ticketID.
func isRetry(tx *gorm.DB, c Caller, ticketID, messageID string) (bool, error) {
	m, found, err := chat.StoreIn(tx).FindMessage(c.Tenant(), messageID)
	return found && m.SessionID == ticketID && m.SenderID == c.UserID, err
}

// noteResponse keeps a ticket's "awaiting a response" mark: set by the
// owner's message, cleared by the handler's answer. Clearing it tells the
// operators the ticket was responded to.
func noteResponse(tx *gorm.DB, t *Ticket, fromOwner bool, now int64) ([]switchboard.Event, error) {
	switch {
	case fromOwner && !t.AwaitingResponse:
		t.AwaitingResponse, t.UpdatedAt = true, now
		return nil, setAwaiting(tx, t.ID, true, now)
	case !fromOwner:
		if _, err := database.Exec(tx, `UPDATE tickets SET awaiting_response = FALSE, last_response_at = ?, updated_at = ?
			WHERE id = ?`, now, now, t.ID); err != nil {
			return nil, err
		}
		t.LastResponseAt, t.UpdatedAt = now, now
		return respondedEvent(t), nil
	}
	return nil, nil
}

// setAwaiting sets or clears a ticket's "awaiting a response" mark.
func setAwaiting(tx *gorm.DB, ticketID string, awaiting bool, now int64) error {
	_, err := database.Exec(tx, `UPDATE tickets SET awaiting_response = ?, updated_at = ? WHERE id = ?`, awaiting, now, ticketID)
	return err
}

// respondedEvent clears the awaiting mark in t and announces it, if set.
func respondedEvent(t *Ticket) []switchboard.Event {
	if !t.AwaitingResponse {
		return nil
	}
	t.AwaitingResponse = false
	return []switchboard.Event{{Name: "ticketResponded", Args: []any{t.ID},
		To: []string{switchboard.OperatorsRoom(t.Tenant)}, SessionID: t.ID}}
}

// AllMessages is the messageId that means "every message from the given
// sender to me" in UpdateMessageStatus.
const AllMessages = "all"

// UpdateMessageStatus records that the caller received (2) or read (3) a
// message, or with messageID "all" every message senderID sent the caller
// on their tickets that are not closed. Statuses only move forward; the
// sender hears of each change.
func (s *Service) UpdateMessageStatus(c Caller, messageID string, status int, senderID string, flag bool, done database.Done) {
	if c.Principal.Role == switchboard.RoleProgram && c.UserID == "" {
		done.Call(switchboard.Errorf(switchboard.EFORBIDDEN, "subscribe for an end user first"))
		return
	}
	s.committer.Submit(func(tx *gorm.DB) ([]switchboard.Event, error) {
		targets, err := s.moveStatus(tx, c, messageID, senderID, status, flag)
		if err != nil || len(targets) == 0 {
			return nil, err
		}
		evs := make([]switchboard.Event, 0, len(targets))
		for _, m := range targets {
			evs = append(evs, switchboard.Event{Name: "messageStatusUpdated", Args: []any{m.ID, status},
				To: []string{senderRoom(c, m)}, SessionID: m.SessionID})
		}
		if s.committer.Streaming() {
			for _, m := range targets {
				evs = append(evs, messageStatusEvent(c, m, status))
			}
		}
		if status >= chat.StatusRead {
			// Read receipts for the senders' chat-protocol sockets, and
			// the reader's counts.
			evs = append(evs, chat.ReadReceipts(c.UserID, targets)...)
			counts, err := readCounts(tx, c, targets)
			if err != nil {
				return nil, err
			}
			evs = append(evs, counts...)
		}
		if status >= chat.StatusRead && isOperator(c) {
			more, err := respondedByReading(tx, c, targets, s.millis())
			if err != nil {
				return nil, err
			}
			evs = append(evs, more...)
		}
		return evs, nil
	}, done)
}

// senderRoom is where the sender of a message the caller received is: a
// ticket message goes between its owner and an operator, so the sender is
// an operator exactly when the recipient (the caller) is not.
func senderRoom(c Caller, m chat.Message) string {
	if isOperator(c) {
		return switchboard.UserRoom(m.Tenant, m.SenderID)
	}
	return switchboard.OperatorRoom(m.Tenant, m.SenderID)
}

// moveStatus moves the message the caller received (or, with
// AllMessages, every unread one from senderID) forward to status and
// returns the messages that moved.
func (s *Service) moveStatus(tx *gorm.DB, c Caller, messageID, senderID string, status int, flag bool) ([]chat.Message, error) {
	now := s.millis()
	if messageID != AllMessages {
		return markReceived(tx, c, messageID, status, flag, now)
	}
	targets, err := s.unreadFrom(tx, c, senderID, status)
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	seqs := make([]int64, len(targets))
	for i, m := range targets {
		seqs[i] = m.Seq
	}
	return targets, chat.StoreIn(tx).SetStatus(seqs, status, flag, now)
}

// markReceived moves the one message addressed to the caller forward, in
// one statement (the usual delivered or read receipt), on a ticket the
// caller may see (visible's rules; a moved message of any other session
// refuses the command, which then changes nothing). When nothing moved it
// finds out why: no such message for the caller is an error, a status
// already at or past status a no-op.
func markReceived(tx *gorm.DB, c Caller, messageID string, status int, flag bool, now int64) ([]chat.Message, error) {
	m, moved, err := chat.StoreIn(tx).MarkReceived(chat.StatusReceipt{MessageID: messageID, Tenant: c.Tenant(),
		RecipientID: c.UserID, Status: status, Flag: flag, Now: now})
	if err != nil {
		return nil, err
	}
	if !moved {
		return nil, receiptRefused(tx, c, messageID)
	}
	t, found, err := findTicket(tx, c.Tenant(), m.SessionID)
	if err != nil {
		return nil, err
	}
	if !found || !visible(c, t) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no message %s", messageID)
	}
	return []chat.Message{m}, nil
}

// receiptRefused is why a receipt for messageID moved nothing: NOTFOUND
// when the caller may not see it, FORBIDDEN when it was not sent to the
// caller, nil when its status is already where the receipt would put it.
func receiptRefused(tx *gorm.DB, c Caller, messageID string) error {
	m, t, found, err := findReceipt(tx, c.Tenant(), messageID)
	if err != nil {
		return err
	}
	if !found || !visible(c, t) {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no message %s", messageID)
	}
	if m.RecipientID != c.UserID {
		return switchboard.Errorf(switchboard.EFORBIDDEN, "message %s was not sent to you", messageID)
	}
	return nil
}

// unreadFrom lists the messages from senderID to the caller below status
// on tickets that are not closed.
func (s *Service) unreadFrom(tx *gorm.DB, c Caller, senderID string, status int) ([]chat.Message, error) {
	var out []chat.Message
	err := tx.Where(`recipient_id = ? AND sender_id = ? AND status_id < ? AND tenant = ?
		AND session_id IN (SELECT id FROM tickets WHERE tenant = ? AND status <> ?)`,
		c.UserID, senderID, status, c.Tenant(), c.Tenant(), StatusClosed).
		Order("seq").Find(&out).Error
	return out, err
}

// respondedByReading clears the awaiting mark of the tickets whose owner's
// messages the handling operator has now all read.
func respondedByReading(tx *gorm.DB, c Caller, read []chat.Message, now int64) ([]switchboard.Event, error) {
	var evs []switchboard.Event
	seen := map[string]bool{}
	for _, m := range read {
		if seen[m.SessionID] {
			continue
		}
		seen[m.SessionID] = true
		t, found, err := findTicket(tx, c.Tenant(), m.SessionID)
		if err != nil {
			return nil, err
		}
		if !found || !t.AwaitingResponse || t.HandlerID != c.UserID {
			continue
		}
		unread, err := chat.StoreIn(tx).CountUnread(t.ID, t.OwnerID)
		if err != nil {
			return nil, err
		}
		if unread > 0 {
			continue
		}
		if err := setAwaiting(tx, t.ID, false, now); err != nil {
			return nil, err
		}
		evs = append(evs, respondedEvent(&t)...)
	}
	return evs, nil
}

// readCounts are the reader's unread counts in each ticket of targets
// (messages it has just read).
func readCounts(tx *gorm.DB, c Caller, targets []chat.Message) ([]switchboard.Event, error) {
	var evs []switchboard.Event
	seen := map[string]bool{}
	for _, m := range targets {
		if seen[m.SessionID] {
			continue
		}
		seen[m.SessionID] = true
		more, err := chat.StoreIn(tx).UnreadEvents(m.Tenant, m.SessionID, c.UserID)
		if err != nil {
			return nil, err
		}
		evs = append(evs, more...)
	}
	return evs, nil
}
