#!/usr/bin/env bash
# Starts a throwaway Redis for the tests: installs Debian's redis-server when missing, starts it on
# 127.0.0.1 (a free port: 6399 when free, else a random one) in the background with persistence
# off, waits until it answers PING, and prints exactly one line on stdout:
#   REDIS_URL=redis://127.0.0.1:PORT
# Everything else goes to stderr. Stop it with .ci/redis-stop.sh. State lives in $REDIS_DIR
# (default .tmp/redis, which deno.json excludes).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${REDIS_DIR:-.tmp/redis}

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "redis-server not found: installing it with apt-get" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y -qq redis-server >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq redis-server >/dev/null
  fi
fi

if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
  echo "a Redis started by this script is already running; stop it with .ci/redis-stop.sh" >&2
  exit 1
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for attempt in 1 2 3 4 5 6 7 8; do
  if [ "$attempt" -eq 1 ]; then port=6399; else port=$((20000 + RANDOM % 40000)); fi
  if port_in_use "$port"; then continue; fi
  # No RDB snapshots, no AOF: test data is throwaway.
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" >&2
  for _ in $(seq 1 50); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; then
      echo "$port" >"$dir/redis.port"
      echo "Redis $(redis-server --version | sed -nE 's/.*v=([0-9.]+).*/\1/p') on 127.0.0.1:$port" >&2
      echo "REDIS_URL=redis://127.0.0.1:$port"
      exit 0
    fi
    sleep 0.1
  done
  # It did not come up (the port was taken in between): stop whatever started and try another.
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  rm -f "$dir/redis.pid"
done
echo "could not start redis-server; see $dir/redis.log" >&2
exit 1
