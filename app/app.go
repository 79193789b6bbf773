package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/switchboard-chat/switchboard"
	"github.com/switchboard-chat/switchboard/alerts"
	"github.com/switchboard-chat/switchboard/apidoc"
	"github.com/switchboard-chat/switchboard/canned"
	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/frontend"
	"github.com/switchboard-chat/switchboard/hours"
	"github.com/switchboard-chat/switchboard/internal/cluster"
	"github.com/switchboard-chat/switchboard/internal/fanout"
	"github.com/switchboard-chat/switchboard/internal/jobs"
	"github.com/switchboard-chat/switchboard/internal/limiter"
	"github.com/switchboard-chat/switchboard/labels"
	"github.com/switchboard-chat/switchboard/mail"
	"github.com/switchboard-chat/switchboard/metrics"
	"github.com/switchboard-chat/switchboard/oauth"
	"github.com/switchboard-chat/switchboard/operators"
	"github.com/switchboard-chat/switchboard/outbox"
	"github.com/switchboard-chat/switchboard/privacy"
	"github.com/switchboard-chat/switchboard/reports"
	"github.com/switchboard-chat/switchboard/tickets"
	"github.com/switchboard-chat/switchboard/visitors"
	"github.com/switchboard-chat/switchboard/webhooks"
)

// App is one running Switchboard node.
type App struct {
	cfg       Config
	log       *slog.Logger
	listener  net.Listener
	db        *database.DB
	committer *database.Committer
	tickets   *tickets.Service
	jobs      *jobs.Runner
	relay     *outbox.Relay        // nil without an events sink
	webhooks  *webhooks.Dispatcher // nil with webhooks off
	// webhookQueue queues programs' notifications (nil with webhooks off).
	webhookQueue *webhooks.Writer
	io           *socket.Server
	chatIO       *socket.Server
	http         *http.Server
	router       *echo.Echo // a.http's handler, for the routes it has
	dev          *oauth.DevIssuer
	mail         *mail.Outbox // nil: email is off
	metrics      *metrics.Metrics
	drain        draining // set when a shutdown starts
	// In a cluster (SWITCHBOARD_REDIS_URL): Redis, the bus that delivers
	// both protocols' events on every node, the heartbeats and shared
	// presence, the shared rate limits (app/cluster.go); nil when alone.
	redis   *redis.Client
	bus     *cluster.Bus
	members *cluster.Membership
	limits  *cluster.Limits
	rtm     *rtmBinding // the plain-WebSocket binding
}

// New opens the database, starts the write path and wires the protocols.
// It listens at once (so that the development issuer knows its URL), but
// serves only from Run.
func New(cfg Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a.listener = ln
	if err := a.wire(); err != nil {
		ln.Close()
		a.closeStores()
		return nil, err
	}
	return a, nil
}

func (a *App) wire() error {
	// Before the database: a server that must not start creates nothing.
	verifier, err := a.verifier()
	if err != nil {
		return err
	}
	tuning, err := a.cfg.SQLite()
	if err != nil {
		return err
	}
	if err := a.cfg.Cluster.check(a.cfg.Database); err != nil {
		return err
	}
	db, err := database.OpenWith(a.cfg.Database, database.Options{
		Logger: a.log, Durability: database.Durability(a.cfg.Durability), SQLite: tuning})
	if err != nil {
		return err
	}
	a.db = db
	if err := a.joinCluster(); err != nil {
		return err
	}
	// The committer publishes to the protocol bindings, which are made
	// after it: bind late through these variables. Each binding delivers
	// its own protocol's events and skips the others.
	var livechat *tickets.Livechat
	var chatServer *chat.ChatServer
	var emails *tickets.Emails
	publisher := switchboard.PublisherFunc(func(evs []switchboard.Event) {
		if a.bus != nil {
			a.bus.Publish(evs) // all three bindings, on every node
		} else {
			livechat.Publish(evs)
			chatServer.Publish(evs)
			a.rtm.Publish(evs)
		}
		emails.Publish(evs)
		if a.relay != nil {
			a.relay.Publish(evs) // stream events committed: publish them now
		}
		if a.webhooks != nil {
			a.webhooks.Publish(evs) // and deliver what they queued for programs
		}
	})
	var box database.Outbox // the domain event stream's, when it is on
	var events *outbox.Writer
	if a.cfg.Events.On() {
		events = outbox.NewWriter(outbox.WriterOptions{Namespace: a.cfg.Events.Namespace})
		box = events
	}
	a.metrics = metrics.New()
	queue, err := a.webhookWriter()
	if err != nil {
		return err
	}
	a.committer = database.NewCommitter(db, publisher, database.CommitterOptions{Logger: a.log,
		Outbox: joinOutboxes(box, queue), Observe: a.metrics.ObserveCommit, Sequence: a.bus != nil})
	a.rtm = a.newRTM()
	if err := a.startRelay(events); err != nil {
		return err
	}
	a.startWebhooks()
	limits := tickets.Limits{MaxText: a.cfg.MaxText, MaxImage: a.cfg.MaxImage}.WithDefaults()
	presence := &operators.Presence{}
	// One presence for both protocols: a user is online while it has a
	// live socket on either.
	sockets := chat.NewPresence(nil)
	a.shareCounts(sockets, presence)
	// A ticket is a chat session: chat takes the ticket rules for ticket
	// sessions (chat cannot import tickets), tickets takes the chat
	// service to announce tickets on the chat protocol.
	chatSvc := chat.NewService(db, a.committer, chat.ServiceOptions{Presence: sockets, Publisher: publisher,
		RecentFor: a.cfg.ArchiveAfter, Directory: chat.Directory(a.cfg.ChatDirectory),
		Tickets: tickets.NewChatSessions(db, nil)})
	mode, err := tickets.ParseRoutingMode(a.cfg.Routing)
	if err != nil {
		return err
	}
	svc := tickets.NewService(db, a.committer, tickets.Options{Chat: chatSvc, Routing: &tickets.RoutingOptions{
		Mode: mode, Capacity: a.cfg.OperatorCapacity, Presence: presence, Logger: a.log}})
	a.tickets = svc
	if a.jobs, err = newJobs(a.cfg, a.committer, svc, jobs.Options{Logger: a.log}); err != nil {
		return err
	}
	// Visitor tokens are accepted beside the provider's (oidc mode: none).
	visitorSvc, err := a.visitorTokens(db, a.committer)
	if err != nil {
		return err
	}
	if err := addVisitorJobs(a.jobs, visitorSvc, a.cfg.Visitors, a.log); err != nil {
		return err
	}
	var tokens limiter.Verifier = verifier
	if visitorSvc != nil {
		tokens = visitors.NewVerifier(visitorSvc, verifier)
	}
	binding := fanout.Options{AuthGrace: a.cfg.AuthGrace, Logger: a.log, Metrics: a.metrics}
	lim, clientIP, err := a.limiter(streamPublisher(a.committer, publisher))
	if err != nil {
		return err
	}
	a.shareLimits(lim)
	a.rtm.start(chatSvc, binding, lim, a.cfg.RTMPing)
	socketTokens := a.rtm.socketVerifier(tokens) // socket tokens of rtm.connect too
	livechat = tickets.NewLivechat(svc, socketTokens, presence, tickets.LivechatOptions{
		Options: binding, Limits: limits, Sockets: sockets, Publisher: publisher, Limiter: lim})
	chatLimits := chat.Limits{MaxText: a.cfg.MaxText}.WithDefaults()
	chatServer = chat.NewChatServer(chatSvc, socketTokens, chat.ChatServerOptions{
		Options: binding, Limits: chatLimits, Limiter: lim})

	a.io = socket.NewServer(nil, socketOptions("/socket.io", limits.MaxEventBytes()))
	livechat.Attach(a.io)
	a.chatIO = socket.NewServer(nil, socketOptions(chatPath, chatLimits.MaxEventBytes()))
	chatServer.Attach(a.chatIO)
	for _, io := range []*socket.Server{a.io, a.chatIO} {
		lim.GuardConnections(io.Sockets(), clientIP) // one count per address across both
	}
	if err := a.startCluster(livechat, chatServer); err != nil {
		return err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP
	e.HTTPErrorHandler = httpError
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/readyz", a.ready)
	a.serveMetrics(e)
	sio := echo.WrapHandler(a.drain.refuseNew(a.io, a.io.ServeHandler(nil)))
	e.Any("/socket.io/", sio)
	e.Any("/socket.io/*", sio)
	chatSIO := echo.WrapHandler(a.drain.refuseNew(a.chatIO, a.chatIO.ServeHandler(nil)))
	e.Any(chatPath+"/", chatSIO)
	e.Any(chatPath+"/*", chatSIO)
	if a.dev != nil {
		h := echo.WrapHandler(a.dev.Handler())
		e.Any("/oidc", h)
		e.Any("/oidc/*", h)
	}
	// REST requests in flight per principal; the handlers reuse the
	// middleware's verification of the token.
	api := e.Group("/api/v1", lim.LimitRequests(tokens))
	restVerifier := limiter.RequestVerifier(tokens)
	visitors.NewHTTP(visitorSvc, lim).Register(api)
	tickets.NewHTTP(svc, restVerifier).WithLimits(limits).Register(api)
	alerts.NewHTTP(alerts.NewService(db, a.committer, nil), restVerifier).Register(api)
	// The same status the chat protocol's setStatus sets.
	roster := operators.NewRoster(db, a.committer, presence, operators.RosterOptions{StatusEvents: chatSvc.StatusEvents,
		MayTakeMore: svc.RouteQueue, DefaultCapacity: a.cfg.OperatorCapacity})
	operators.NewHTTP(roster, restVerifier).Register(api)
	// Teams: deleting one gives its tickets back to no team; a change of
	// members routes the queue again.
	teams := operators.NewTeams(db, a.committer, operators.TeamsOptions{Disbanded: svc.LeaveTeam, Changed: svc.RouteQueue})
	operators.NewTeamsHTTP(teams, restVerifier).Register(api)
	businessHours := a.businessHours(db, a.committer, roster)
	hours.NewHTTP(businessHours, restVerifier).Register(api)
	a.mail = a.outbox()
	emails = ticketEmails(db, a.mail, businessHours, a)
	privacy.NewHTTP(privacy.NewService(a.committer, privacy.Options{Logger: a.log}), restVerifier).Register(api)
	a.webhookAPI(api, restVerifier)
	canned.NewHTTP(canned.NewService(db, a.committer, canned.Options{}), restVerifier).Register(api)
	labels.NewHTTP(labels.NewService(db, a.committer, labels.Options{OpenCounts: svc.OpenLabelCounts,
		Removed: tickets.DropLabel}), restVerifier).Register(api)
	reports.NewHTTP(reports.NewService(db, reports.Options{}), restVerifier).Register(api)
	a.rtm.register(e, api, restVerifier, &a.drain)
	apidoc.Register(api) // the OpenAPI document of every /api/v1 route
	web := frontend.Options{Issuer: a.cfg.OIDC.Issuer, ClientID: a.cfg.WebClientID, Audience: a.cfg.OIDC.Audience,
		Visitors: string(visitors.ModeOIDC)}
	if visitorSvc != nil {
		web.Visitors = string(visitorSvc.Options().Mode)
	}
	if a.dev != nil {
		web.Issuer, web.DevIssuer = a.dev.Issuer(), true
	}
	frontend.Register(e, web)
	a.http = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	a.router = e
	return nil
}

// chatPath is where the chat protocol (spec/chat.md) is served.
const chatPath = "/api/chatserver/socket.io"

// socketOptions are the transport settings of spec/livechat.md, which
// the chat protocol shares, at path.
func socketOptions(path string, maxEventBytes int) *socket.ServerOptions {
	opts := socket.DefaultServerOptions()
	opts.SetPath(path)
	opts.SetServeClient(false)
	opts.SetPingInterval(25 * time.Second)
	opts.SetPingTimeout(20 * time.Second)
	// A client whose namespace CONNECT got lost retries after this, rather
	// than hanging for the default 45 s.
	opts.SetConnectTimeout(5 * time.Second)
	opts.SetMaxHttpBufferSize(int64(maxEventBytes))
	opts.SetTransports(types.NewSet(socket.Polling, socket.WebSocket))
	// Bearer tokens, not cookies, authenticate: any site may embed the
	// widget.
	opts.SetCors(&types.Cors{Origin: "*", Credentials: false})
	opts.SetAdapter(fanout.AdapterBuilder{})
	return opts
}

// verifier builds the token verifier, starting the development issuer when
// no issuer is configured and the listener is loopback (or Dev says so).
func (a *App) verifier() (*oauth.Verifier, error) {
	cfg := a.cfg.OIDC
	cfg.Logger = a.log
	if cfg.Issuer == "" {
		if err := a.devIssuerAllowed(); err != nil {
			return nil, err
		}
		issuer := "http://" + loopbackHostPort(a.listener.Addr()) + "/oidc"
		dev, err := oauth.NewDevIssuer(oauth.DevIssuerOptions{Issuer: issuer, DataDir: a.cfg.DataDir,
			Audience: cfg.Audience, Logger: a.log})
		if err != nil {
			return nil, err
		}
		a.dev = dev
		cfg.Issuer = dev.Issuer()
		cfg.AcceptJWTTyp = true // the issuer's library signs access tokens with typ JWT
		a.log.Warn("DEVELOPMENT ISSUER: no SWITCHBOARD_OIDC_ISSUER is set, so Switchboard issues its own demo tokens. "+
			"For development only; it answers loopback clients only.", "issuer", cfg.Issuer)
	}
	return oauth.NewVerifier(cfg.WithDefaults()), nil
}

// devIssuerAllowed refuses the development issuer, whose demo accounts
// sign in with one click, on a listener that other machines reach, unless
// Dev says so. A server meant for the public must name its issuer.
func (a *App) devIssuerAllowed() error {
	tcp, ok := a.listener.Addr().(*net.TCPAddr)
	if ok && tcp.IP.IsLoopback() {
		return nil
	}
	if !a.cfg.Dev {
		return fmt.Errorf("no OpenID issuer is configured and %s is not a loopback address: "+
			"set SWITCHBOARD_OIDC_ISSUER (--oidc-issuer) to your provider's issuer URL, "+
			"or set SWITCHBOARD_DEV=true (--dev) to run the development issuer, with its demo accounts, on this address",
			a.cfg.Addr)
	}
	a.log.Warn("DEVELOPMENT MODE (SWITCHBOARD_DEV): the development issuer runs on a non-loopback listen address. "+
		"Its demo accounts sign in without passwords; never use this in production.", "addr", a.listener.Addr())
	return nil
}

// loopbackHostPort is how this machine reaches the listener: an address
// bound to all interfaces is reached on 127.0.0.1.
func loopbackHostPort(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	switch {
	case !ok:
		return addr.String()
	case tcp.IP.IsLoopback():
		return tcp.String()
	}
	return fmt.Sprintf("127.0.0.1:%d", tcp.Port)
}

func (a *App) ready(c echo.Context) error {
	if a.drain.on.Load() {
		return c.String(http.StatusServiceUnavailable, "draining: this node is shutting down")
	}
	if err := a.db.Ping(); err != nil {
		return c.String(http.StatusServiceUnavailable, "database: "+err.Error())
	}
	return c.String(http.StatusOK, "ready"+a.eventsReady())
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx ends, then drains within the configured
// DrainTimeout: /readyz fails and new Socket.IO connections are refused at
// once (the listener stays open to say so), every command already
// received commits and is acked, the sockets' transports are closed so
// that their clients reconnect, to another node, and the database closes.
func (a *App) Run(ctx context.Context) error {
	a.announce()
	a.jobs.Start()
	if a.relay != nil {
		a.relay.Start()
	}
	if a.webhooks != nil {
		a.webhooks.Start()
	}
	served := make(chan error, 1)
	go func() { served <- a.http.Serve(a.listener) }()
	select {
	case err := <-served:
		a.closeStores()
		return err
	case <-ctx.Done():
	}
	a.log.Info("draining: refusing new connections", "timeout", a.cfg.DrainTimeout)
	a.drain.on.Store(true)
	shutCtx, cancel := context.WithTimeout(context.Background(), a.cfg.DrainTimeout)
	defer cancel()
	stopJobs(shutCtx, a.jobs, a.log) // a running job's writes reach the committer
	a.tickets.Close()                // routing passes under way finish
	a.stopRelay()                    // pending events wait in the outbox
	a.stopWebhooks()                 // queued notifications wait too
	a.committer.Close()              // in-flight commands commit and ack
	a.closeMail()                    // after the last commits' events
	// The engine writes packets from its own goroutines and closing a
	// transport does not wait for them: give the last acks a moment.
	time.Sleep(250 * time.Millisecond)
	a.closeTransports(2 * time.Second)
	for _, io := range []*socket.Server{a.io, a.chatIO} {
		done := make(chan struct{})
		io.Close(func(error) { close(done) })
		select {
		case <-done:
		case <-shutCtx.Done():
		}
	}
	err := a.http.Shutdown(shutCtx) // closes the listener, waits for requests under way
	a.closeStores()
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil // long-polling requests cut short: their sockets are gone anyway
	}
	a.log.Info("stopped")
	return err
}

// closeTransports closes every socket's connection once its queued packets
// (the acks of the last commits) are written. Clients see a transport
// close, not a server disconnect, so they reconnect to the next server.
func (a *App) closeTransports(wait time.Duration) {
	a.rtm.closeAll()
	lists := []*types.Map[socket.SocketId, *socket.Socket]{a.io.Sockets().Sockets(), a.chatIO.Sockets().Sockets()}
	for _, sockets := range lists {
		sockets.Range(func(_ socket.SocketId, s *socket.Socket) bool {
			s.Conn().Close(false)
			return true
		})
	}
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if lists[0].Len()+lists[1].Len() == 0 {
			return
		}
	}
}

func (a *App) closeStores() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopJobs(ctx, a.jobs, a.log)
	if a.tickets != nil {
		a.tickets.Close()
	}
	a.stopRelay()
	a.stopWebhooks()
	if a.committer != nil {
		a.committer.Close()
	}
	a.closeMail()
	a.closeCluster()
	if a.db != nil {
		if err := a.db.Close(); err != nil {
			a.log.Error("closing the database", "err", err)
		}
	}
}

// announce prints how to connect.
func (a *App) announce() {
	base := "http://" + loopbackHostPort(a.listener.Addr())
	a.log.Info("Switchboard is listening", "addr", a.Addr(), "socket.io", base+"/socket.io/", "api", base+"/api/v1")
	if a.dev == nil {
		return
	}
	secrets := a.dev.ProgramSecrets()
	ids := make([]string, 0, len(secrets))
	for id := range secrets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a.log.Warn("DEVELOPMENT ISSUER program client", "client_id", id, "client_secret", secrets[id])
	}
	fmt.Printf("\nSwitchboard is running at %s (development issuer at %s)\n"+
		"Demo accounts: operator-1..operator-3, supervisor-1, user-1, user-2; programs: program-42, program-7.\n"+
		"Get a token:   go run ./cmd/switchboard token --as operator-1 --server %s\n"+
		"Connect:       io(%q, {auth: {accessToken: TOKEN}})\n\n", base, a.dev.Issuer(), base, base)
}

// Routes are the HTTP routes the node serves.
func (a *App) Routes() []*echo.Route { return a.router.Routes() }
