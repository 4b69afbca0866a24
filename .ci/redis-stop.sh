#!/usr/bin/env bash
# Stops the Redis that .ci/redis.sh started (found through its pid file), and removes its state.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${REDIS_DIR:-.tmp/redis}
pidfile="$dir/redis.pid"
if [ ! -f "$pidfile" ]; then
  echo "no Redis started by .ci/redis.sh is running" >&2
  exit 0
fi
pid=$(cat "$pidfile")
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
fi
if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
rm -f "$dir/redis.pid" "$dir/redis.port" "$dir/redis.log"
rmdir "$dir" 2>/dev/null || true
echo "stopped Redis (pid $pid)" >&2
