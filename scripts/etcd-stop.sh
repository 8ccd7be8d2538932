#!/usr/bin/env bash
# Stops the etcd started by etcd-start.sh DATADIR (only that PID) and removes its data.
# Usage: etcd-stop.sh [--keep-data] DATADIR
#   --keep-data  keep DATADIR (and its log) for a later etcd-start.sh --keep-data.
set -euo pipefail

keep=0
if [ "${1:-}" = "--keep-data" ]; then keep=1; shift; fi
DATA=${1:?usage: etcd-stop.sh [--keep-data] DATADIR}

if [ -f "$DATA.pid" ]; then
  pid=$(cat "$DATA.pid")
  if kill "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$DATA.pid"
fi
if [ "$keep" -eq 0 ]; then rm -rf "$DATA" "$DATA.log"; fi
