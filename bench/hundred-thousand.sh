#!/usr/bin/env bash
# 100,000 concurrent WebSocket connections on one machine whose processes are capped below
# that many file descriptors (RLIMIT_NOFILE 20,000 here, not raisable): several kinto-push
# nodes on one Redis (the scale-out of docs/deployment.md), each held by a kp-loadgen process
# of its own with its own loopback source address. While every connection is open, the script
# samples each node's open-connection gauge (/metrics) and memory (PSS), and reports the peak
# of connections open at once across the nodes, and the memory per connection.
#
#   bench/hundred-thousand.sh [--connections 100000] [--nodes 6] [--hold 40]
#
#   KINTO_PUSH_BIN  default build/release/server/kinto-push
#   KP_LOADGEN_BIN  default build/release/bench/loadgen/kp-loadgen
#
# Loopback only, bounded in time (each kp-loadgen has --max-seconds, the script a deadline);
# stops only the PIDs it started, also on Ctrl-C. Results: bench/results/<date>-hundred-thousand.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
KINTO_PUSH_BIN=${KINTO_PUSH_BIN:-$ROOT/build/release/server/kinto-push}
KP_LOADGEN_BIN=${KP_LOADGEN_BIN:-$ROOT/build/release/bench/loadgen/kp-loadgen}
CONNECTIONS=100000
NODES=6
HOLD=40

while [ $# -gt 0 ]; do
  case "$1" in
    --connections) CONNECTIONS=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --hold) HOLD=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$CONNECTIONS" =~ ^[1-9][0-9]{0,6}$ ]] || { echo "--connections: 1..9999999" >&2; exit 2; }
[[ "$NODES" =~ ^[1-9][0-9]?$ ]] || { echo "--nodes: 1..99" >&2; exit 2; }
[[ "$HOLD" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "--hold: 1..999 seconds" >&2; exit 2; }
for b in "$KINTO_PUSH_BIN" "$KP_LOADGEN_BIN"; do
  [ -x "$b" ] || { echo "missing $b: build it first (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
done
command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install -y redis-server" >&2; exit 2; }
PER_NODE=$(( (CONNECTIONS + NODES - 1) / NODES ))
LIMIT=$(ulimit -Hn)
[ "$PER_NODE" -lt $((LIMIT - 100)) ] ||
  { echo "$PER_NODE connections per node do not fit in $LIMIT descriptors: use more --nodes" >&2; exit 2; }
ulimit -n "$LIMIT"

WORK=$(mktemp -d /tmp/kp-100k.XXXXXX)
# shellcheck source=bench/bench-processes.sh
. "$HERE/bench-processes.sh"   # STARTED, stop_pid, cleanup (at exit), free_port, wait_port

pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
open_connections() {   # the node's kinto_push_connections gauge
  curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk '$1 == "kinto_push_connections" {print $2}' || true
}

port=$(free_port)
redis-server --bind 127.0.0.1 --port "$port" --dir "$WORK" --save '' --appendonly no --daemonize no \
  >"$WORK/redis.log" 2>&1 &
STARTED+=("$!")
wait_port "$port" || { echo "redis-server did not start" >&2; cat "$WORK/redis.log" >&2; exit 1; }
REDIS=redis://127.0.0.1:$port/0

PORTS=() PIDS=()
for i in $(seq "$NODES"); do
  port=$(free_port)
  "$KINTO_PUSH_BIN" --listen "127.0.0.1:$port" --store "$REDIS" --log-level warn 2>"$WORK/node-$i.log" &
  STARTED+=("$!"); PIDS+=("$!"); PORTS+=("$port")
  wait_port "$port" || { echo "kinto-push did not start" >&2; cat "$WORK/node-$i.log" >&2; exit 1; }
done
sleep 1
PSS_BEFORE=0
for pid in "${PIDS[@]}"; do PSS_BEFORE=$((PSS_BEFORE + $(pss_kib "$pid"))); done

echo "$NODES nodes on $REDIS, $PER_NODE connections each, held $HOLD s"
LOADGENS=()
for i in $(seq "$NODES"); do
  # Each kp-loadgen holds one node's connections, from 127.0.0.(i+1).
  "$KP_LOADGEN_BIN" --mode idle --url "http://127.0.0.1:${PORTS[i - 1]}" --subscribers "$PER_NODE" --channels 100 \
    --events 0 --threads 1 --handshakes-in-flight 200 --source-addrs "127.0.0.$((i + 1))" \
    --idle-hold-seconds "$HOLD" --settle-seconds 1 --server-pid "${PIDS[i - 1]}" --max-seconds $((HOLD + 120)) \
    --json "$WORK/loadgen-$i.json" >"$WORK/loadgen-$i.txt" 2>&1 &
  STARTED+=("$!"); LOADGENS+=("$!")
done

# Sample until every kp-loadgen has finished (bounded by their --max-seconds, plus a margin).
PEAK=0 PEAK_PSS=0 PEAK_AT=0 START=$(date +%s)
while :; do
  total=0
  for port in "${PORTS[@]}"; do n=$(open_connections "$port"); total=$((total + ${n:-0})); done
  if [ "$total" -gt "$PEAK" ]; then
    PEAK=$total PEAK_AT=$(( $(date +%s) - START )) PEAK_PSS=0
    for pid in "${PIDS[@]}"; do PEAK_PSS=$((PEAK_PSS + $(pss_kib "$pid"))); done
  fi
  running=0
  for pid in "${LOADGENS[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
  [ "$running" = 1 ] || break
  [ $(( $(date +%s) - START )) -lt $((HOLD + 180)) ] || { echo "deadline passed" >&2; break; }
  sleep 1
done

ESTABLISHED=0 FAILED=0
for i in $(seq "$NODES"); do
  read -r e f < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["connections"]; print(c["established"], c["failed"])' \
    "$WORK/loadgen-$i.json" 2>/dev/null || echo "0 0")
  ESTABLISHED=$((ESTABLISHED + e)) FAILED=$((FAILED + f))
done
REDIS_PSS=$(pss_kib "${STARTED[0]}")
PER_CONN=$(python3 -c "print(f'{($PEAK_PSS - $PSS_BEFORE) / max($PEAK, 1):.2f}')")

DATE=$(date -u +%Y-%m-%d)
OUT=$ROOT/bench/results/$DATE-hundred-thousand.md
{
  echo "# $CONNECTIONS connections on one machine: $NODES kinto-push nodes on one Redis ($DATE)"
  echo
  echo "Machine: $(nproc) cores, kernel $(uname -r), RLIMIT_NOFILE hard limit $LIMIT per process."
  echo "Command: \`bench/hundred-thousand.sh --connections $CONNECTIONS --nodes $NODES --hold $HOLD\`"
  echo "(Release build, \`--store redis://\`, default options; one kp-loadgen in idle mode per node,"
  echo "100 channels, each connection subscribed to one of them)."
  echo
  echo "| figure | value |"
  echo "|---|---:|"
  echo "| connections asked | $CONNECTIONS ($PER_NODE per node) |"
  echo "| subscribed, as the load generators count them | $ESTABLISHED (failed: $FAILED) |"
  echo "| open at once, peak of the sum of the nodes' \`kinto_push_connections\` | $PEAK (at $PEAK_AT s) |"
  echo "| nodes' PSS before the connections, at the peak | $((PSS_BEFORE / 1024)) MiB, $((PEAK_PSS / 1024)) MiB |"
  echo "| nodes' memory (PSS) per connection | $PER_CONN KiB |"
  echo "| redis-server PSS at the end | $((REDIS_PSS / 1024)) MiB |"
  echo
  echo "Per node (kp-loadgen's report):"
  echo
  for i in $(seq "$NODES"); do echo "- node $i: $(grep -m1 '^connections' "$WORK/loadgen-$i.txt" || echo 'no report')"; done
} >"$OUT"
cat "$OUT"
[ "$PEAK" -ge "$CONNECTIONS" ] || { echo "peak $PEAK below $CONNECTIONS" >&2; exit 1; }
