#!/usr/bin/env bash
# The one command: Switchboard (SQLite and PostgreSQL) side by side with the
# in-memory Node socket.io peer, interleaved over 3 rounds, server on core 0
# and load generator on core 1; prints the medians and the ratios.
#   bash bench/run.sh                 the full run (about 10 minutes)
#   bash bench/run.sh --quick         a small run while developing
# Options are bench/run.mjs's (see its header).
set -euo pipefail
cd "$(dirname "$0")"
# 5,000 sockets on each side, and then some.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
command -v taskset >/dev/null || { echo "taskset is missing: apt-get install util-linux" >&2; exit 1; }
# The peer and the load generator (socket.io, socket.io-client) here; the
# OpenID provider and its login flow are the conformance suite's (test/js).
for dir in . ../test/js; do
	if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
done
exec node run.mjs "$@"
