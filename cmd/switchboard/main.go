// Command switchboard runs the Switchboard live-chat ticket server.
//
//	switchboard [flags]                      run the server (see --help)
//	switchboard token --as operator-1        print a development access token
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-chat/switchboard/app"
	"github.com/switchboard-chat/switchboard/internal/sysmon"
	"github.com/switchboard-chat/switchboard/oauth"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "token" {
		if err := token(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "switchboard token:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := app.Load("switchboard", os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(2)
	}
	log := app.NewLogger(os.Stderr, cfg)
	slog.SetDefault(log)
	if cfg.IdleMonitor {
		if tid, err := sysmon.Idle(); err != nil {
			log.Warn("runtime monitor thread keeps its scheduling class", "err", err)
		} else {
			log.Debug("runtime monitor thread in SCHED_IDLE", "tid", tid)
		}
	}
	if addr := os.Getenv("SWITCHBOARD_PPROF"); addr != "" {
		servePprof(addr, log)
	}
	a, err := app.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// servePprof serves the Go profiler's endpoints (/debug/pprof/) on addr,
// a listener of its own that the public router never reaches. Off unless
// SWITCHBOARD_PPROF is set; bind it to a loopback address.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		log.Warn("profiler endpoints enabled", "addr", addr)
		if err := srv.ListenAndServe(); err != nil {
			log.Error("profiler endpoints", "err", err)
		}
	}()
}

// token prints an access token minted by the running server's development
// issuer, for scripts and tests.
func token(args []string) error {
	fs := flag.NewFlagSet("switchboard token", flag.ContinueOnError)
	as := fs.String("as", "", "demo account (operator-1..operator-3, supervisor-1, user-1, user-2) or program (program-42, program-7)")
	program := fs.String("program", "", "same as --as for a program client")
	server := fs.String("server", envOr("SWITCHBOARD_SERVER", "http://"+envOr("SWITCHBOARD_ADDR", "127.0.0.1:8080")), "the running Switchboard server")
	dataDir := fs.String("data-dir", envOr("SWITCHBOARD_DATA_DIR", "switchboard-data"), "the server's data directory (program secrets)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	who := *as
	if *program != "" {
		who = *program
	}
	if who == "" {
		return errors.New("say who: --as operator-1 (or --program program-42)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := oauth.DevToken(ctx, strings.TrimSuffix(*server, "/")+"/oidc", who, *dataDir)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
