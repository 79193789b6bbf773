#!/usr/bin/env bash
# Runs every Go fuzz target (func FuzzXxx in any package) for
# SWITCHBOARD_FUZZTIME each, default 5s: the short budget scripts/test.sh
# gives them in CI. Go fuzzes one target per `go test` run, so each gets
# its own. For a long search, e.g. before a release:
#
#   SWITCHBOARD_FUZZTIME=10m bash scripts/fuzz.sh
#   SWITCHBOARD_FUZZ='^FuzzChatEvent$' SWITCHBOARD_FUZZTIME=30m bash scripts/fuzz.sh
#
# A failure leaves its input in <package>/testdata/fuzz/<target>/: commit
# it with the fix, and every `go test` run replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${SWITCHBOARD_FUZZTIME:-5s}
only=${SWITCHBOARD_FUZZ:-.}
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' | grep -E "$only" || true); do
		printf -- '--- %s %s (%s)\n' "$pkg" "$target" "$fuzztime"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	done
done
