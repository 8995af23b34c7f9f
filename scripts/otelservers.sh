#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster and redis-server on 127.0.0.1 for
# the OpenTelemetry interop tests and example (examples/otel), and stops
# them. Both Debian packages: apt-get install -y postgresql redis-server.
#
#   eval "$(scripts/otelservers.sh start DIR)"   # exports FLOWTRACE_POSTGRES_DSN, FLOWTRACE_REDIS_ADDR
#   scripts/otelservers.sh stop DIR
#
# PG_PORT and REDIS_PORT choose the ports (default: free ones). PostgreSQL
# refuses to run as root: as root the cluster runs as the postgres user.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pgbin() {
	if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# as runs a command as the cluster's owner.
as() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
	bin=$(pgbin)
	[ -x "$bin/initdb" ] || { echo "otelservers.sh: no PostgreSQL (apt-get install -y postgresql)" >&2; exit 1; }
	command -v redis-server >/dev/null || { echo "otelservers.sh: no redis-server (apt-get install -y redis-server)" >&2; exit 1; }
	mkdir -p "$dir/pg" "$dir/redis"
	if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir/pg"; chmod 755 "$dir"; fi
	pgport=${PG_PORT:-$(freeport)}
	redisport=${REDIS_PORT:-$(freeport)}
	as "$bin/initdb" -D "$dir/pg/data" -U flowtrace --auth=trust -E UTF8 --no-sync >"$dir/pg/initdb.log" 2>&1 ||
		{ cat "$dir/pg/initdb.log" >&2; exit 1; }
	# Listen on 127.0.0.1 only; the socket lives in the cluster's directory.
	as "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $pgport -k $dir/pg -c fsync=off" start >&2 ||
		{ cat "$dir/pg/server.log" >&2; exit 1; }
	redis-server --bind 127.0.0.1 --port "$redisport" --save '' --appendonly no \
		--daemonize yes --pidfile "$dir/redis/redis.pid" --dir "$dir/redis" --logfile "$dir/redis/redis.log"
	for _ in $(seq 100); do
		redis-cli -h 127.0.0.1 -p "$redisport" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	redis-cli -h 127.0.0.1 -p "$redisport" ping >/dev/null || { cat "$dir/redis/redis.log" >&2; exit 1; }
	echo "export FLOWTRACE_POSTGRES_DSN='postgres://flowtrace@127.0.0.1:$pgport/postgres?sslmode=disable'"
	echo "export FLOWTRACE_REDIS_ADDR='127.0.0.1:$redisport'"
	;;
stop)
	bin=$(pgbin)
	if [ -f "$dir/pg/data/postmaster.pid" ]; then
		as "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >&2 || true
	fi
	if [ -f "$dir/redis/redis.pid" ]; then
		kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
	fi
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
