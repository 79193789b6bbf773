#!/usr/bin/env bash
# End-to-end tests of the operator dashboard and the chat widget in a real
# browser. Installs what it needs: Debian's chromium (never a downloaded
# browser build) and the npm packages from the committed lockfiles.
#
# 1. Builds frontend/ from source (npm ci && npm run build) and fails if
#    the committed frontend/dist differs from that fresh build: the Go
#    binary embeds dist/, so it must match the sources.
# 2. Runs test/e2e (playwright-core driving /usr/bin/chromium) against the
#    real server binary with its development issuer. Screenshots go to
#    test/artifacts/ (gitignored).
#
# SKIP_DIST_CHECK=1 skips the comparison in step 1 (while editing the
# frontend, before committing the new build).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%T)"; }

if [ ! -x /usr/bin/chromium ]; then
	step "installing Debian's chromium"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

step "frontend: fresh build (npm ci && npm run build)"
(
	cd frontend
	npm ci --no-audit --no-fund --loglevel=error
	npm run build
)

if [ "${SKIP_DIST_CHECK:-}" = 1 ]; then
	echo "SKIP_DIST_CHECK=1: not comparing frontend/dist with the commit"
elif ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "not a git work tree: cannot compare frontend/dist with the commit" >&2
	exit 1
else
	stale=$(git status --porcelain --untracked-files=all -- frontend/dist)
	if [ -n "$stale" ]; then
		echo "frontend/dist differs from a fresh build of frontend/ (or is not committed):" >&2
		echo "$stale" >&2
		echo "Run 'cd frontend && npm ci && npm run build' and commit frontend/dist." >&2
		exit 1
	fi
	echo "frontend/dist matches a fresh build"
fi

step "end-to-end tests (headless Chromium, playwright-core)"
(
	cd test/e2e
	npm ci --no-audit --no-fund --loglevel=error
	npm test
)
