#!/usr/bin/env bash
# Runs every Switchboard test: Go unit and store tests (SQLite, and the
# PostgreSQL at SWITCHBOARD_TEST_POSTGRES, default 127.0.0.1:5432), then the
# JavaScript conformance suite against the real server binary with tokens
# from a real OpenID provider. Installs what it needs (npm packages) itself.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%T)"; }

# NATS JetStream for the event stream's tests: started here if none runs.
source scripts/nats.sh
trap stop_nats EXIT
ensure_nats

step "go vet"
go vet ./...

step "builds without cgo for macOS and Windows (stock SQLite there; SQLite needs cgo, PostgreSQL does not)"
for goos in darwin windows; do
	GOOS=$goos CGO_ENABLED=0 go build ./...
	GOOS=$goos CGO_ENABLED=0 go vet ./...
done

step "go test -race"
go test -race -count=1 -skip '^(TestFlood|TestEventsSinkOutage|TestClusterNodeLoss|TestClusterClientAddress)$' ./...

# The flood test times another user's acks while one user floods the
# server binary: it runs alone, not beside the other packages' tests.
step "flood test (one user floods the server binary for ${SWITCHBOARD_FLOOD_SECONDS:-15} s)"
go test -count=1 -run '^TestFlood$' -v ./cmd/switchboard

# The outage test times acks too: it runs alone. It stops its own NATS
# for 10 s (SWITCHBOARD_LONG_TESTS=1: 60 s).
step "events sink outage (500 msgs/s while NATS is stopped and started again)"
go test -count=1 -run '^TestEventsSinkOutage$' -v ./cmd/switchboard

# Three server processes behind nginx (deploy/nginx.conf) on PostgreSQL
# and Redis, killed, drained and restarted under load: it runs alone.
step "cluster behind nginx (client addresses; kill -9, drain, rolling restart; installs Debian's nginx if missing)"
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light
fi
go test -count=1 -v ./test/cluster

step "go test -race on stock SQLite (SWITCHBOARD_SQLITE_TUNING=off)"
SWITCHBOARD_SQLITE_TUNING=off go test -race -count=1 ./database/ ./tickets/ ./chat/

# The seeds of every fuzz target ran above as tests; here each target
# searches for new inputs for a few seconds (longer: SWITCHBOARD_FUZZTIME=10m
# bash scripts/fuzz.sh, see test/README.md).
step "fuzz targets, ${SWITCHBOARD_FUZZTIME:-5s} each"
bash scripts/fuzz.sh

step "benchmark tooling (bench/lib: the CPU split of --perf)"
node --test bench/lib/

step "JavaScript conformance suite (socket.io-client, oidc-provider)"
(
	cd test/js
	npm ci --no-audit --no-fund --loglevel=error
	npm test
)

step "dashboard and widget in a real browser (installs Debian's chromium if missing)"
bash scripts/e2e.sh
step "all tests passed"
