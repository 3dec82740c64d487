#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster on a loopback port and print its DATABASE_URL.
# initdb refuses to run as root, so as root the cluster belongs to an unprivileged system user.
set -euo pipefail
PORT="${PGPORT_CI:-54329}"
BIN="$(dirname "$(command -v initdb 2>/dev/null || echo /usr/lib/postgresql/15/bin/initdb)")"
[ -x "$BIN/initdb" ] || BIN=/usr/lib/postgresql/15/bin
DIR="$(mktemp -d /tmp/adminui-pg.XXXXXX)"
RUN=()
if [ "$(id -u)" = 0 ]; then
  id adminui-ci >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin adminui-ci
  chown adminui-ci "$DIR"
  RUN=(runuser -u adminui-ci --)
fi
"${RUN[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
echo "$DIR" > /tmp/adminui-pg.dir
echo "postgres://postgres@127.0.0.1:$PORT/adminui"
