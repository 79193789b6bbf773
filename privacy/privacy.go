// Package privacy is what Switchboard does to forget: retention of closed
// tickets (Retain, a scheduled job) and data-protection requests (a
// user's data exported or erased by an administrator: Service, and its
// REST handlers). It reads and writes the other packages' tables through
// their own functions (tickets, chat's Store, visitors) and is imported
// by none of them.
package privacy

// RemovedText replaces the content of every message retention
// anonymises or an erasure leaves behind in others' conversations.
const RemovedText = "[removed for data protection]"

// ErasedUserID stands for an erased user in what others keep (their
// conversations, the tickets it handled, audit trails). No principal ever
// has it: a stored id's '%' always begins "%25" or "%2F"
// (switchboard.SubjectUserID), so nobody signs in as the erased user.
const ErasedUserID = "%erased"
