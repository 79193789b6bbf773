#!/usr/bin/env bash
# Runs a Switchboard cluster on this machine: N nodes of the server binary
# on PostgreSQL (a database of their own) and Redis, with nginx in front
# (deploy/nginx.conf). Starts PostgreSQL and Redis if they are not running
# and installs Debian's nginx if it is missing. Prints the URL; Ctrl-C
# stops everything it started and drops the database.
#
#   bash scripts/cluster.sh [N]           (default 3 nodes)
#
# SWITCHBOARD_CLUSTER_PORT is nginx's port (default 8080); the nodes
# listen on the next N ports. The first node runs the development issuer
# and the others accept its tokens; log in at the printed URL.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-3}
port=${SWITCHBOARD_CLUSTER_PORT:-8080}
pg=${SWITCHBOARD_CLUSTER_POSTGRES:-postgres://postgres@127.0.0.1:5432}
redis_url=${SWITCHBOARD_CLUSTER_REDIS:-redis://127.0.0.1:6379/0}
dir=$(mktemp -d /tmp/switchboard-cluster.XXXXXX)
db=switchboard_cluster_$port
pids=()
redis_pid=

export PGOPTIONS="-c client_min_messages=warning"

say() { printf '=== %s\n' "$*"; }

stop() {
	trap - EXIT INT TERM
	say "stopping"
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
	psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap stop EXIT INT TERM

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	say "installing Debian's nginx"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

if ! pg_isready -q -d "$pg/postgres"; then
	say "starting PostgreSQL"
	service postgresql start || pg_ctlcluster "$(ls /etc/postgresql | tail -1)" main start
	for _ in $(seq 50); do pg_isready -q -d "$pg/postgres" && break; sleep 0.2; done
fi
if ! redis-cli -u "$redis_url" ping >/dev/null 2>&1; then
	say "starting Redis"
	redis-server --port "$(echo "$redis_url" | sed -E 's#.*:([0-9]+)(/.*)?$#\1#')" --save '' --appendonly no \
		--logfile "$dir/redis.log" &
	redis_pid=$!
	for _ in $(seq 50); do redis-cli -u "$redis_url" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

say "database $db"
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
psql "$pg/postgres" -qc "CREATE DATABASE $db" >/dev/null

say "building the server"
go build -o "$dir/switchboard" ./cmd/switchboard

first=http://127.0.0.1:$((port + 1))
upstreams=""
for i in $(seq "$n"); do
	addr=127.0.0.1:$((port + i))
	env=(SWITCHBOARD_ADDR="$addr" SWITCHBOARD_DATABASE="$pg/$db" SWITCHBOARD_REDIS_URL="$redis_url"
		SWITCHBOARD_REDIS_PREFIX="switchboard-cluster-$port:" SWITCHBOARD_NODE_ID="node-$i"
		SWITCHBOARD_DATA_DIR="$dir/data" SWITCHBOARD_TRUSTED_PROXIES=127.0.0.1)
	if [ "$i" -gt 1 ]; then
		env+=(SWITCHBOARD_OIDC_ISSUER="$first/oidc" SWITCHBOARD_OIDC_ACCEPT_JWT_TYP=true)
	fi
	env "${env[@]}" "$dir/switchboard" >"$dir/node-$i.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 150); do curl -fso /dev/null "http://$addr/readyz" && break; sleep 0.2; done
	curl -fso /dev/null "http://$addr/readyz" || { tail -20 "$dir/node-$i.log"; exit 1; }
	say "node-$i at http://$addr (log $dir/node-$i.log)"
	upstreams+="		server $addr max_fails=1 fail_timeout=5s;"$'\n'
done

mkdir -p "$dir/nginx/tmp"
cp deploy/nginx.conf "$dir/nginx/nginx.conf"
printf 'listen 127.0.0.1:%s;\n' "$port" >"$dir/nginx/switchboard-listen.conf"
printf 'upstream switchboard_ws {\n\tleast_conn;\n%s\tkeepalive 64;\n}\nupstream switchboard_polling {\n\tip_hash;\n%s\tkeepalive 64;\n}\n' \
	"$upstreams" "$upstreams" >"$dir/nginx/switchboard-upstreams.conf"
"$nginx" -p "$dir/nginx" -c nginx.conf -g 'daemon off; user root;' 2>"$dir/nginx.log" &
pids+=($!)
for _ in $(seq 50); do curl -fso /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done

cat <<MSG

Switchboard cluster of $n nodes at http://127.0.0.1:$port (nginx; logs in $dir)
Tokens:  go run ./cmd/switchboard token --as operator-1 --server $first --data-dir $dir/data
Stop a node to watch its clients move: kill -TERM ${pids[0]} (node-1 is the token issuer; try node-2: kill -TERM ${pids[1]:-})
Ctrl-C stops everything.
MSG
wait "${pids[-1]}"
