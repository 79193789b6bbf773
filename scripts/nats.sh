# Sourced by scripts/test.sh. The event stream's tests publish to NATS
# JetStream at SWITCHBOARD_TEST_NATS (default 127.0.0.1:4222), and the
# outage test runs nats-server processes of its own. ensure_nats installs
# Debian's nats-server if it is missing and, when nothing answers at
# 127.0.0.1:4222 (and SWITCHBOARD_TEST_NATS names no other server),
# starts `nats-server -js` there with a store in a temporary directory;
# stop_nats stops that one (a NATS that was already running is left
# alone).
nats_pid=""
nats_dir=""

nats_answers() { (exec 3<>"/dev/tcp/127.0.0.1/4222") 2>/dev/null; }

ensure_nats() {
	if ! command -v nats-server >/dev/null; then
		step "installing Debian's nats-server"
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server
	fi
	if [ -n "${SWITCHBOARD_TEST_NATS:-}" ] || nats_answers; then
		return
	fi
	step "starting nats-server -js at 127.0.0.1:4222 (none answers there)"
	nats_dir=$(mktemp -d)
	nats-server -js -a 127.0.0.1 -p 4222 -sd "$nats_dir/store" >"$nats_dir/log" 2>&1 &
	nats_pid=$!
	for _ in $(seq 100); do
		nats_answers && return
		sleep 0.1
	done
	cat "$nats_dir/log" >&2
	echo "nats-server did not answer at 127.0.0.1:4222 in 10 s" >&2
	return 1
}

stop_nats() {
	if [ -n "$nats_pid" ]; then
		kill "$nats_pid" 2>/dev/null || true
		wait "$nats_pid" 2>/dev/null || true
		nats_pid=""
	fi
	if [ -n "$nats_dir" ]; then
		rm -rf "$nats_dir"
		nats_dir=""
	fi
}
