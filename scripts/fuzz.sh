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
# Found by their declarations (no build needed to list them); third_party
# holds other modules.
targets=$(grep -rE --include='*_test.go' --exclude-dir=third_party --exclude-dir=node_modules \
	-o '^func Fuzz[A-Za-z0-9_]*\(' . | sed -E 's|^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\($|\1 \2|' | sort)
if [ -z "$targets" ]; then
	echo "no fuzz targets found" >&2
	exit 1
fi
while read -r dir target; do
	if ! grep -qE "$only" <<<"$target"; then
		continue
	fi
	printf -- '--- %s %s (%s)\n' "$dir" "$target" "$fuzztime"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir"
done <<<"$targets"
