package switchboard

// Caller is who sends a command, through either protocol or REST: the
// verified principal, the stored user it acts as, the name others see and
// the socket the command came from. Both protocol bindings and their
// services use this one type.
type Caller struct {
	Principal Principal
	// UserID is the stored identity the command is made as: the
	// principal's id, or for a program on the livechat protocol the scoped
	// id of the end user it subscribed ("" until it has).
	UserID string
	// Name is the display name others see.
	Name string
	// Socket is the socket the command came from ("" over HTTP); that
	// socket learns the outcome from its answer, not from a push.
	Socket string
}

// CallerOf is p acting as itself from socket.
func CallerOf(p Principal, socket string) Caller {
	return Caller{Principal: p, UserID: p.ID, Name: p.DisplayName, Socket: socket}
}

// Tenant is the caller's tenant.
func (c Caller) Tenant() string { return c.Principal.Tenant }
