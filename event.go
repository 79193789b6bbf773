package switchboard

import "strings"

// Rooms are where events go. A service names the audience of each event by
// room; fan-out only delivers and never decides who may see what. Every
// room is inside a tenant: nothing crosses tenants.
//
// A room's name is its kind and its parts joined by ':', each part with
// '%' and ':' percent-encoded (roomPart), so that no two (tenant, id)
// pairs name one room: tenant "a:b" with user "c" is "user:a%3Ab:c",
// tenant "a" with user "b:c" is "user:a:b%3Ac". Names without those
// characters are as they always were.

// OperatorsRoom holds every socket of a tenant's operators that called
// subscribeOperator.
func OperatorsRoom(tenant string) string { return "operators:" + roomPart(tenant) }

// AdminsRoom holds the sockets in OperatorsRoom of the tenant's
// administrators: the supervisors escalations reach.
func AdminsRoom(tenant string) string { return "admins:" + roomPart(tenant) }

// UserRoom is the room of every socket of one (scoped) end user.
func UserRoom(tenant, userID string) string {
	return "user:" + roomPart(tenant) + ":" + roomPart(userID)
}

// OperatorRoom is the room of every socket of one operator.
func OperatorRoom(tenant, operatorID string) string {
	return "operator:" + roomPart(tenant) + ":" + roomPart(operatorID)
}

// ChatUserRoom is the room of every chat-protocol socket of one user (an
// end user, an operator or a program: chat users are all alike).
func ChatUserRoom(tenant, userID string) string {
	return "chat:user:" + roomPart(tenant) + ":" + roomPart(userID)
}

var roomEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

// roomPart is one part of a room's name, encoded. Most parts have
// nothing to encode, and then cost nothing.
func roomPart(s string) string {
	if !strings.ContainsAny(s, "%:") {
		return s
	}
	return roomEscaper.Replace(s)
}

// Protocols an Event is for. Each protocol binding sends only its own.
const (
	// ProtocolLivechat is the livechat protocol (the zero value).
	ProtocolLivechat = ""
	// ProtocolChat is the general chat protocol (THRON realtime events).
	ProtocolChat = "chat"
)

// Event is something that happened, addressed to an audience. Services
// return events after their transaction commits; a protocol fan-out sends
// them, in the order given, with Name and Args as they go on the wire.
type Event struct {
	// Protocol is the protocol whose sockets receive the event; its rooms
	// are that protocol's rooms.
	Protocol string
	Name     string
	Args     []any
	// To lists the rooms that receive the event.
	To []string
	// ExceptSocket, when set, is the socket the command came from: it
	// already knows (its ack says so) and gets no copy.
	ExceptSocket string
	// SessionID is the chat session (ticket) the event is about, the key
	// that keeps one session's events in commit order.
	SessionID string
	// Seq, when not 0, is the place of the Op that made the event in the
	// order of commits across every node sharing the database (the
	// database's clock; set by a Committer that sequences). A node of a
	// cluster delivers numbered events in that order.
	Seq uint64
}

// EventDisconnect is an event no client receives: the binding of its
// protocol disconnects every socket in its rooms instead (a Socket.IO
// DISCONNECT, after which socket.io-client does not reconnect by
// itself). It is how a service that erased a user ends the user's live
// sockets without touching sockets itself.
const EventDisconnect = "switchboard:disconnect"

// Publisher delivers events. Implementations must keep the order of the
// events they are given.
type Publisher interface {
	Publish(events []Event)
}

// ForProtocol returns the events of one protocol, in order.
func ForProtocol(events []Event, protocol string) []Event {
	var out []Event
	for _, ev := range events {
		if ev.Protocol == protocol {
			out = append(out, ev)
		}
	}
	return out
}

// PublisherFunc adapts a function to Publisher.
type PublisherFunc func([]Event)

// Publish calls f.
func (f PublisherFunc) Publish(events []Event) { f(events) }
