#!/usr/bin/env bash
# Starts a single-node etcd for tests and waits until it is healthy.
# Usage: etcd-start.sh [--keep-data] DATADIR [CLIENT_PORT=2379] [PEER_PORT=2380]
#   --keep-data  reuse DATADIR as it is (restart after etcd-stop.sh --keep-data); default wipes it.
# Writes the PID to DATADIR.pid and the log to DATADIR.log. Fast raft timing (heartbeat 10 ms,
# election 100 ms) makes etcd healthy in ~0.1 s and allows 1 s lease TTLs.
set -euo pipefail

keep=0
if [ "${1:-}" = "--keep-data" ]; then keep=1; shift; fi
DATA=${1:?usage: etcd-start.sh [--keep-data] DATADIR [CLIENT_PORT] [PEER_PORT]}
CPORT=${2:-2379}
PPORT=${3:-2380}

if [ "$keep" -eq 0 ]; then rm -rf "$DATA"; fi
mkdir -p -m 700 "$DATA"   # 700 avoids etcd's permission warning
chmod 700 "$DATA"

etcd --name ci --data-dir "$DATA" \
  --listen-client-urls "http://127.0.0.1:$CPORT" --advertise-client-urls "http://127.0.0.1:$CPORT" \
  --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
  --initial-cluster "ci=http://127.0.0.1:$PPORT" --initial-cluster-state new \
  --logger zap --log-level warn \
  --heartbeat-interval 10 --election-timeout 100 \
  >> "$DATA.log" 2>&1 &
pid=$!
echo "$pid" > "$DATA.pid"

for _ in $(seq 1 100); do
  if etcdctl --endpoints "127.0.0.1:$CPORT" endpoint health >/dev/null 2>&1; then exit 0; fi
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "etcd-start: etcd on 127.0.0.1:$CPORT did not become healthy" >&2
cat "$DATA.log" >&2
kill "$pid" 2>/dev/null || true
exit 1
