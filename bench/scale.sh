#!/usr/bin/env bash
# The scale-out benchmarks: idle sockets per node, reconnect storms, a node
# killed under load, cross-node CPU per message (see scale.mjs's header).
#   bash bench/scale.sh                       every benchmark, 2 rounds
#   bash bench/scale.sh idle --rounds 1       one of them
# Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and redis-server.
set -euo pipefail
cd "$(dirname "$0")"
# Tens of thousands of sockets: as many descriptors as this process may have.
ulimit -n "$(ulimit -Hn)"
for cmd in psql redis-server redis-cli; do
	command -v "$cmd" >/dev/null || { echo "$cmd is missing" >&2; exit 1; }
done
for dir in . ../test/js; do
	if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
done
exec node scale.mjs "$@"
