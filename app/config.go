// Package app is Switchboard's composition root: configuration, wiring of
// the stores, services and protocol bindings, the HTTP router with the
// Socket.IO server, and graceful shutdown. Nothing imports it but the
// binary.
package app

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/chat"
	"github.com/switchboard-chat/switchboard/database"
	"github.com/switchboard-chat/switchboard/database/sqlite"
	"github.com/switchboard-chat/switchboard/oauth"
	"github.com/switchboard-chat/switchboard/operators"
	"github.com/switchboard-chat/switchboard/privacy"
	"github.com/switchboard-chat/switchboard/tickets"
)

// Config is everything the server reads at start. Each setting is a
// SWITCHBOARD_* environment variable and a flag; a flag wins.
type Config struct {
	Addr      string
	Database  string
	DataDir   string
	LogLevel  string
	OIDC      oauth.Config
	AuthGrace time.Duration
	// RTMPing is the RTM endpoint's ping interval (docs/rtm.md).
	RTMPing  time.Duration
	MaxText  int
	MaxImage int
	// WebClientID is the OpenID provider's public browser client the
	// dashboard and the widget sign in with (authorization code + PKCE).
	WebClientID string
	// ArchiveAfter is how long an unstarred session stays RECENT without
	// an update; ArchiveSchedule is when the job that applies it runs
	// (a cron spec).
	ArchiveAfter    time.Duration
	ArchiveSchedule string
	// AutoCloseAfter is how long an open ticket may go without a message
	// or a change before the system closes it (0: never);
	// AutoCloseSchedule is when the job that closes them runs.
	AutoCloseAfter    time.Duration
	AutoCloseSchedule string
	// EscalateAfter is how long a new ticket may wait unaccepted before
	// the operators are alerted (0: never); EscalateSchedule is when the
	// job that escalates them runs.
	EscalateAfter    time.Duration
	EscalateSchedule string
	// RemindAfter is how long a user may wait for a reply in an open
	// ticket before its handler is reminded (0: never); RemindSchedule is
	// when the job that reminds them runs.
	RemindAfter    time.Duration
	RemindSchedule string
	// RetentionAfter is how long a closed ticket is kept as it is (0:
	// for ever); after it RetentionMode (privacy.RetentionMode) says
	// whether it is deleted or anonymised. RetentionSchedule is when the
	// job that applies it runs.
	RetentionAfter    time.Duration
	RetentionMode     string
	RetentionSchedule string
	// IdleMonitor puts the Go runtime's monitor thread in the idle
	// scheduling class (internal/sysmon); off by default: a wrong pick of
	// the thread starves one that runs goroutines.
	IdleMonitor bool
	// SQLiteTuning is "on" (package database/sqlite's tuning of a SQLite
	// database), "off" (stock SQLite through the driver), or "on" with
	// mechanisms left out for the benchmark's ablation (sqlite.ParseTuning).
	SQLiteTuning string
	// Durability is what an acknowledged write survives: "fsync" (power
	// loss) or "os" (a crash of the server only); database.Durability.
	Durability string
	// LogFormat is text (slog's key=value lines) or json (one object per
	// line, for a log collector).
	LogFormat string
	// Limits bound what one client may take: rates per principal, the
	// refusals that cut a socket off, connections per address and per
	// principal, REST requests in flight (internal/limiter).
	Limits Limits
	// Dev starts the development issuer (when no OIDC issuer is set) on a
	// listener that other machines can reach. Without it, the development
	// issuer starts only on a loopback listener.
	Dev bool
	// Visitors are the website visitors who chat without an account at
	// the OpenID provider (package visitors).
	Visitors VisitorSettings
	// ChatDirectory is whom a chat-protocol user may see and reach:
	// "operators" (end users see operators only) or "tenant" (everyone).
	ChatDirectory string
	// Routing is how waiting tickets reach operators: manual, least-busy
	// or round-robin (tickets.RoutingMode); OperatorCapacity is the most
	// open tickets routing gives an operator without its own capacity.
	Routing          string
	OperatorCapacity int
	// Mail is email through SMTP (offline tickets, transcripts).
	Mail MailSettings
	// Events is the domain event stream: its sink and namespace, and how
	// long published events stay in the outbox.
	Events EventSettings
	// Webhooks are programs' webhooks (package webhooks).
	Webhooks WebhookSettings
	// DrainTimeout bounds a shutdown (SIGTERM): refusing new connections,
	// committing what is in flight, sending the clients to other nodes.
	DrainTimeout time.Duration
	// Cluster joins this node to others through Redis (app/cluster.go).
	Cluster ClusterSettings
}

// setting is one configuration entry: flag name, environment variable and
// help text; the flag's type and default come from where it is bound.
type setting struct{ flag, env, usage string }

// Load reads the configuration from args (without the program name) and
// env. Help goes to out.
func Load(name string, args []string, env func(string) string, out io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	var all []setting
	str := func(p *string, s setting, def string) { fs.StringVar(p, s.flag, def, s.usage); all = append(all, s) }
	dur := func(p *time.Duration, s setting, def time.Duration) {
		fs.DurationVar(p, s.flag, def, s.usage)
		all = append(all, s)
	}
	num := func(p *int, s setting, def int) { fs.IntVar(p, s.flag, def, s.usage); all = append(all, s) }
	boolean := func(p *bool, s setting, def bool) { fs.BoolVar(p, s.flag, def, s.usage); all = append(all, s) }

	str(&c.Addr, setting{"addr", "SWITCHBOARD_ADDR", "address to listen on"}, "127.0.0.1:8080")
	str(&c.Database, setting{"database", "SWITCHBOARD_DATABASE", "SQLite file path, or a postgres:// URL"}, "switchboard.db")
	str(&c.DataDir, setting{"data-dir", "SWITCHBOARD_DATA_DIR", "directory for the development issuer's signing key and secrets"}, "switchboard-data")
	str(&c.LogLevel, setting{"log-level", "SWITCHBOARD_LOG_LEVEL", "debug, info, warn or error"}, "info")
	str(&c.LogFormat, setting{"log-format", "SWITCHBOARD_LOG_FORMAT", "text or json (one JSON object per line, for a log collector)"}, LogText)
	str(&c.OIDC.Issuer, setting{"oidc-issuer", "SWITCHBOARD_OIDC_ISSUER", "OpenID provider issuer URL; empty starts the embedded development issuer (on a loopback listen address, or with --dev)"}, "")
	boolean(&c.Dev, setting{"dev", "SWITCHBOARD_DEV", "allow the development issuer (no SWITCHBOARD_OIDC_ISSUER) on a non-loopback listen address; never in production"}, false)
	str(&c.OIDC.Audience, setting{"oidc-audience", "SWITCHBOARD_OIDC_AUDIENCE", "required access-token audience"}, oauth.DefaultAudience)
	str(&c.OIDC.RolesClaim, setting{"oidc-roles-claim", "SWITCHBOARD_OIDC_ROLES_CLAIM", "claim holding roles (dotted path allowed)"}, oauth.DefaultRolesClaim)
	str(&c.OIDC.OperatorRole, setting{"operator-role", "SWITCHBOARD_OPERATOR_ROLE", "role value that makes an operator"}, oauth.DefaultOperatorRole)
	str(&c.OIDC.AdminRole, setting{"admin-role", "SWITCHBOARD_ADMIN_ROLE", "role value that, beside the operator role, makes an operator an administrator of its tenant"}, oauth.DefaultAdminRole)
	str(&c.OIDC.SupervisorRole, setting{"supervisor-role", "SWITCHBOARD_SUPERVISOR_ROLE", "role value that, beside the operator role, makes an operator a supervisor (canned responses, labels, the overview and reports)"}, oauth.DefaultSupervisorRole)
	str(&c.OIDC.ProgramClaim, setting{"oidc-program-claim", "SWITCHBOARD_OIDC_PROGRAM_CLAIM", "claim naming the program of a client-credentials token"}, oauth.DefaultProgramClaim)
	str(&c.OIDC.TenantClaim, setting{"oidc-tenant-claim", "SWITCHBOARD_OIDC_TENANT_CLAIM", "claim naming the tenant; empty = single tenant"}, "")
	str(&c.OIDC.Tenant, setting{"tenant", "SWITCHBOARD_TENANT", "the tenant when there is no tenant claim"}, oauth.DefaultTenant)
	dur(&c.OIDC.Leeway, setting{"oidc-leeway", "SWITCHBOARD_OIDC_LEEWAY", "clock leeway for exp and nbf"}, oauth.DefaultLeeway)
	boolean(&c.OIDC.AcceptJWTTyp, setting{"oidc-accept-jwt-typ", "SWITCHBOARD_OIDC_ACCEPT_JWT_TYP", "also accept access tokens with header typ JWT (on for the development issuer)"}, false)
	dur(&c.DrainTimeout, setting{"drain-timeout", "SWITCHBOARD_DRAIN_TIMEOUT", "longest a shutdown (SIGTERM) may take: /readyz fails and new connections are refused at once, in-flight commits finish and are acked, clients are told to reconnect (to another node), then the process exits"}, 10*time.Second)
	dur(&c.AuthGrace, setting{"auth-grace", "SWITCHBOARD_AUTH_GRACE", "how long a socket may stay unauthenticated"}, 10*time.Second)
	dur(&c.RTMPing, setting{"rtm-ping-interval", "SWITCHBOARD_RTM_PING_INTERVAL", "time between the RTM endpoint's pings; a socket whose pong has not come by the next one is closed"}, 25*time.Second)
	num(&c.MaxText, setting{"max-text-bytes", "SWITCHBOARD_MAX_TEXT_BYTES", "largest text message"}, 64<<10)
	num(&c.MaxImage, setting{"max-image-bytes", "SWITCHBOARD_MAX_IMAGE_BYTES", "largest image message, decoded"}, 1<<20)
	dur(&c.ArchiveAfter, setting{"archive-after", "SWITCHBOARD_ARCHIVE_AFTER", "how long an unstarred session stays RECENT without an update"}, chat.DefaultArchiveAfter)
	str(&c.ArchiveSchedule, setting{"archive-schedule", "SWITCHBOARD_ARCHIVE_SCHEDULE", "when sessions are aged (cron spec, UTC)"}, "*/10 * * * *")
	dur(&c.AutoCloseAfter, setting{"auto-close-after", "SWITCHBOARD_AUTO_CLOSE_AFTER", "how long an open ticket may go without a message or a change before it is closed; 0 = never"}, 24*time.Hour)
	str(&c.AutoCloseSchedule, setting{"auto-close-schedule", "SWITCHBOARD_AUTO_CLOSE_SCHEDULE", "when idle tickets are closed (cron spec, UTC)"}, "*/5 * * * *")
	dur(&c.EscalateAfter, setting{"escalate-after", "SWITCHBOARD_ESCALATE_AFTER", "how long a new ticket may wait unaccepted before the operators are alerted; 0 = never"}, 10*time.Minute)
	str(&c.EscalateSchedule, setting{"escalate-schedule", "SWITCHBOARD_ESCALATE_SCHEDULE", "when waiting tickets are escalated (cron spec, UTC)"}, "* * * * *")
	dur(&c.RemindAfter, setting{"remind-after", "SWITCHBOARD_REMIND_AFTER", "how long a user may wait for a reply in an open ticket before its handler is reminded (once per wait); 0 = never"}, 5*time.Minute)
	str(&c.RemindSchedule, setting{"remind-schedule", "SWITCHBOARD_REMIND_SCHEDULE", "when handlers are reminded (cron spec, UTC)"}, "* * * * *")
	dur(&c.RetentionAfter, setting{"retention-after", "SWITCHBOARD_RETENTION_AFTER", "how long a closed ticket is kept after its close before it is deleted or anonymised; 0 = for ever"}, 0)
	str(&c.RetentionMode, setting{"retention-mode", "SWITCHBOARD_RETENTION_MODE", "what retention does to an old closed ticket: anonymise (keep it for statistics without its contents and the owner's details) or delete"}, string(privacy.Anonymise))
	str(&c.RetentionSchedule, setting{"retention-schedule", "SWITCHBOARD_RETENTION_SCHEDULE", "when retention runs (cron spec, UTC)"}, "*/10 * * * *")
	str(&c.Durability, setting{"durability", "SWITCHBOARD_DURABILITY", "fsync: acknowledge a write once it is on stable storage (survives power loss); os: once the OS has it (faster; a power loss or OS crash loses the last second or so of acknowledged writes)"}, string(database.DurabilityFsync))
	boolean(&c.IdleMonitor, setting{"idle-monitor-thread", "SWITCHBOARD_IDLE_MONITOR_THREAD", "run the Go runtime's monitor thread in the idle scheduling class (Linux): its wake-ups stop preempting the server; off by default, a wrong pick starves a thread that runs goroutines"}, false)
	str(&c.SQLiteTuning, setting{"sqlite-tuning", "SWITCHBOARD_SQLITE_TUNING", "on: SQLite with Switchboard's tuning (batching VFS, page cache wrapper, checkpointer thread; Linux with cgo); off: stock SQLite through the driver; on,-walbatch,…: the tuning without those mechanisms (to measure them; docs/performance.md)"}, "on")
	c.Limits.load(num, dur, boolean, str)
	c.Visitors.load(str, dur)
	c.Mail.load(str)
	str(&c.WebClientID, setting{"oidc-web-client-id", "SWITCHBOARD_OIDC_WEB_CLIENT_ID", "public browser client id of the dashboard and the widget (authorization code + PKCE)"}, oauth.DevWebClientID)
	str(&c.ChatDirectory, setting{"chat-directory", "SWITCHBOARD_CHAT_DIRECTORY", "chat protocol directory: operators (end users see and reach operators only) or tenant (everyone sees everyone)"}, string(chat.DirectoryOperators))
	str(&c.Routing, setting{"routing", "SWITCHBOARD_ROUTING", "how new tickets reach operators: manual (operators accept from the queue), least-busy or round-robin (assigned automatically within capacity)"}, string(tickets.RoutingManual))
	num(&c.OperatorCapacity, setting{"operator-capacity", "SWITCHBOARD_OPERATOR_CAPACITY", "most open tickets routing gives an operator at once, unless the operator's own capacity is set"}, tickets.DefaultCapacity)
	c.Events.load(str, dur)
	c.Webhooks.load(str, num)
	c.Cluster.load(str, dur)

	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s [flags]\n       %s token --as operator-1|user-1|program-42 [--server URL]\n\n", name, name)
		fmt.Fprintf(out, "Every flag can also be set by its environment variable; a flag wins.\n\n")
		for _, s := range all {
			f := fs.Lookup(s.flag)
			fmt.Fprintf(out, "  --%-22s %-34s %s (default %q)\n", s.flag, s.env, s.usage, f.DefValue)
		}
	}
	for _, s := range all {
		if v := env(s.env); v != "" {
			if err := fs.Set(s.flag, v); err != nil {
				return c, fmt.Errorf("%s=%q: %w", s.env, v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := checkLogFormat(c.LogFormat); err != nil {
		return c, err
	}
	if c.DrainTimeout <= 0 {
		return c, fmt.Errorf("SWITCHBOARD_DRAIN_TIMEOUT=%s: must be positive", c.DrainTimeout)
	}
	if _, err := database.ParseDurability(c.Durability); err != nil {
		return c, fmt.Errorf("SWITCHBOARD_DURABILITY (--durability): %w", err)
	}
	if _, err := c.SQLite(); err != nil {
		return c, err
	}
	if err := c.Limits.check(); err != nil {
		return c, err
	}
	if err := c.Visitors.check(c.OIDC); err != nil {
		return c, err
	}
	if _, err := tickets.ParseRoutingMode(c.Routing); err != nil {
		return c, fmt.Errorf("SWITCHBOARD_ROUTING: %w", err)
	}
	if c.OperatorCapacity < 1 || c.OperatorCapacity > operators.MaxCapacity {
		return c, fmt.Errorf("SWITCHBOARD_OPERATOR_CAPACITY %d: want 1 to %d", c.OperatorCapacity, operators.MaxCapacity)
	}
	if err := c.Mail.check(); err != nil {
		return c, err
	}
	if _, err := privacy.ParseRetentionMode(c.RetentionMode); err != nil {
		return c, fmt.Errorf("SWITCHBOARD_RETENTION_MODE: %w", err)
	}
	if _, err := chat.ParseDirectory(c.ChatDirectory); err != nil {
		return c, fmt.Errorf("SWITCHBOARD_CHAT_DIRECTORY: %w", err)
	}
	if err := c.Events.check(); err != nil {
		return c, err
	}
	if err := c.Webhooks.check(); err != nil {
		return c, err
	}
	if err := c.Cluster.check(c.Database); err != nil {
		return c, err
	}
	return c, nil
}

// SQLite reads SQLiteTuning.
func (c Config) SQLite() (sqlite.Tuning, error) {
	t, err := sqlite.ParseTuning(c.SQLiteTuning)
	if err != nil {
		return t, fmt.Errorf("SWITCHBOARD_SQLITE_TUNING (--sqlite-tuning) %w", err)
	}
	return t, nil
}
