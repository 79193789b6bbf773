package chat

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/database"
)

// Idempotent chat writes. A chat write answers after its commit; when it
// cannot within its time, the answer is OUTCOME_UNKNOWN, because the write
// may still commit afterwards. A client that names its write with a key
// (sendMsg's clientMsgId, createChat's clientSessionId) retries it with the
// same key: the first write with a key records it in chat_request_keys
// with the id of what it created, in the same transaction, and a later
// one by the same user finds it and answers with the original instead of
// writing again. The key is the database's, not the node's memory: it
// holds across restarts and nodes.

// Kinds of write a key names; a client may reuse a key across kinds.
const (
	keyMessage = "message"
	keySession = "session"
)

// MaxRequestKey is the longest key a client may give.
const MaxRequestKey = 128

// EOUTCOMEUNKNOWN is a write that did not answer in time: it may or may
// not commit. It is the result code of the same name.
const EOUTCOMEUNKNOWN = ResultOutcomeUnknown

// outcomeUnknown is the error of a write the caller stopped waiting for.
func outcomeUnknown() error {
	return switchboard.Errorf(EOUTCOMEUNKNOWN, "the server did not finish this write in time and it may still be "+
		"stored: send it again with the same clientMsgId (sendMsg) or clientSessionId (createChat) and it is stored once")
}

// write runs op as one Op on the Committer and waits for its commit or
// for ctx. An Op that has not started when ctx ends does not start: the
// requester has stopped waiting, and a late write is what a retry would
// duplicate.
func (s *Service) write(ctx context.Context, op database.Op) error {
	err := s.committer.Run(ctx, func(tx *gorm.DB) ([]switchboard.Event, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return op(tx)
	})
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return outcomeUnknown()
	}
	return err
}

// claimKey records that the caller's write of kind named key creates id.
// If the caller used key before, it returns the id the first write
// created and fresh=false: the caller answers with that and writes
// nothing. No key is always fresh.
func claimKey(tx *gorm.DB, c Caller, kind, key, id string, now int64) (orig string, fresh bool, err error) {
	if key == "" {
		return id, true, nil
	}
	n, err := database.Exec(tx, `INSERT INTO chat_request_keys (tenant, user_id, kind, request_key, target_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, c.Tenant(), c.UserID, kind, key, id, now)
	if err != nil || n == 1 {
		return id, err == nil, err
	}
	err = database.QueryRow(tx, `SELECT target_id FROM chat_request_keys
		WHERE tenant = ? AND user_id = ? AND kind = ? AND request_key = ?`, c.Tenant(), c.UserID, kind, key).Scan(&orig)
	return orig, false, err
}

// sentBefore is the answer to a sendMsg retried with its key: the message
// the first one stored, if it is in the session the retry names.
func sentBefore(tx *gorm.DB, c Caller, sessionID, msgID, key string) (MsgPayload, error) {
	var m Message
	res := tx.Where("id = ? AND session_id = ? AND tenant = ?", msgID, sessionID, c.Tenant()).Limit(1).Find(&m)
	if res.Error != nil {
		return MsgPayload{}, res.Error
	}
	if res.RowsAffected == 0 {
		return MsgPayload{}, switchboard.Errorf(switchboard.EINVALID,
			"clientMsgId %q already named a message of another chat session", key)
	}
	return msgPayload(m, c.UserID), nil
}

// createdBefore is the answer to a createChat retried with its key: the
// session the first one created, as the caller sees it now.
func (s *Service) createdBefore(tx *gorm.DB, c Caller, sessionID string) (ChatCreated, error) {
	sess, found, err := FindSession(tx, c.Tenant(), sessionID)
	if err != nil {
		return ChatCreated{}, err
	}
	if !found {
		return ChatCreated{}, notFound(sessionID)
	}
	b, err := s.basic(tx, sess, c.UserID)
	return ChatCreated{SessionBasic: b, Username: c.UserID}, err
}

// RequestKeyLife is how long a key names its write. A client retries
// within seconds or minutes; a day covers a client that was offline and
// retries when it is back, and keeps the table from growing without end.
const RequestKeyLife = 24 * time.Hour

// PruneRequestKeys forgets the keys recorded before now − RequestKeyLife;
// a retry with such a key writes again.
func PruneRequestKeys(tx *gorm.DB, now time.Time) (int64, error) {
	return database.Exec(tx, `DELETE FROM chat_request_keys WHERE created_at < ?`, now.Add(-RequestKeyLife).UnixMilli())
}
