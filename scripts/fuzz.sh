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
# fuzz runs one target. A failing input is saved under testdata/fuzz: that
# is a finding, and fails the run. A run that fails without saving one
# lost a worker process that was restarting (seen on a machine loaded far
# beyond its cores): it is run once more, and fails if that fails too.
count() { find "$1" -type f 2>/dev/null | wc -l || true; }

fuzz() {
	local dir=$1 target=$2 before after
	before=$(count "$dir/testdata/fuzz/$target")
	if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir"; then
		return 0
	fi
	after=$(count "$dir/testdata/fuzz/$target")
	if [ "$after" -gt "$before" ]; then
		echo "$target found a failing input: $dir/testdata/fuzz/$target" >&2
		return 1
	fi
	echo "$target failed without a failing input; running it once more" >&2
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir"
}

while read -r dir target; do
	if ! grep -qE "$only" <<<"$target"; then
		continue
	fi
	printf -- '--- %s %s (%s)\n' "$dir" "$target" "$fuzztime"
	fuzz "$dir" "$target" </dev/null
done <<<"$targets"
