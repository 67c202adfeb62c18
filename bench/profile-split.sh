#!/usr/bin/env bash
# Where one delivery's server CPU goes, kinto-push beside nchan: each server runs a shape of
# compare-nchan.sh (default (b), 1,000 channels x 5 subscribers, 1,000 events/s) while
# `perf record -g` samples its event-loop process for a few seconds; the CPU per delivery
# measured by kp-loadgen is then split by perf's shares into the kernel's part, the part under
# tcp_sendmsg (a send to a loopback socket: our TCP, the receiver's TCP and its wake-up) and
# user space. Builds nothing (the Release build of this checkout by default).
#
#   bench/profile-split.sh [--reps 3] [--shape b] [--seconds 6] [--shards 1]
#   -> bench/results/<date>-profile-split.md (medians), raw perf data in a temp dir (removed)
#
# Needs perf (apt-get install -y linux-perf), nginx with nchan, root or perf_event_paranoid <= 1.
# The targets alternate; every run is bounded in time; only the processes started here are
# stopped, by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
KINTO_PUSH_BIN=${KINTO_PUSH_BIN:-$ROOT/build/release/server/kinto-push}
KP_LOADGEN_BIN=${KP_LOADGEN_BIN:-$ROOT/build/release/bench/loadgen/kp-loadgen}
REPS=3 SHAPE=b SECONDS_SAMPLED=6 SHARDS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --shape) SHAPE=$2; shift 2 ;;
    --seconds) SECONDS_SAMPLED=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$REPS" =~ ^[1-9]$ ]] || { echo "--reps must be 1..9" >&2; exit 2; }
[[ "$SHAPE" =~ ^[abf]$ ]] || { echo "--shape: a, b or f (live shapes)" >&2; exit 2; }
[[ "$SECONDS_SAMPLED" =~ ^[1-9]$ ]] || { echo "--seconds must be 1..9 (the run lasts about 10 s)" >&2; exit 2; }
[[ "$SHARDS" =~ ^[1-9]$ ]] || { echo "--shards must be 1..9" >&2; exit 2; }
for b in "$KINTO_PUSH_BIN" "$KP_LOADGEN_BIN"; do
  [ -x "$b" ] || { echo "missing $b: build it first (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
done
command -v perf >/dev/null || { echo "perf is needed: apt-get install -y linux-perf" >&2; exit 2; }
{ command -v nginx >/dev/null && [ -f /usr/lib/nginx/modules/ngx_nchan_module.so ]; } ||
  { echo "nginx and nchan are needed: apt-get install -y nginx-light libnginx-mod-nchan" >&2; exit 2; }

DATE=$(date -u +%Y-%m-%d)
OUT=$ROOT/bench/results/$DATE-profile-split.md
WORK=$(mktemp -d /tmp/kp-profile.XXXXXX)
ulimit -n "$(ulimit -Hn)"
# shellcheck source=bench/bench-processes.sh
. "$HERE/bench-processes.sh"
# shellcheck source=bench/bench-shapes.sh
. "$HERE/bench-shapes.sh"

# One run: $1 target (kinto-push | nchan), $2 rep. Prints "target us_per_delivery kernel_share
# tcp_sendmsg_share lost" (shares of the sampled process's CPU, 0..1).
profile_one() {
  local target=$1 rep=$2 port pid pids sampled name=$1-$2 loadgen_pid
  port=$(free_port)
  if [ "$target" = nchan ]; then
    launch_nchan "$WORK/nchan-$rep" "$port" || return 1
    pid=$NCHAN_MASTER
    sampled=${NCHAN_WORKERS%%,*}   # the one worker (bench/nchan.conf.in)
    pids="$pid,$sampled"
  else
    "$KINTO_PUSH_BIN" --listen "127.0.0.1:$port" --store memory --history-size 2000 --log-level warn \
      --shards "$SHARDS" 2>"$WORK/$name.log" &
    pid=$!; STARTED+=("$pid")
    wait_port "$port" || { echo "kinto-push did not start" >&2; return 1; }
    sampled=$pid pids=$pid
  fi
  # shellcheck disable=SC2046
  timeout 120 "$KP_LOADGEN_BIN" --target "$target" --url "http://127.0.0.1:$port" --server-pid "$pids" \
    $(shape_args "$SHAPE") --json "$WORK/$name.json" >"$WORK/$name.txt" 2>&1 &
  loadgen_pid=$!; STARTED+=("$loadgen_pid")
  sleep 3   # connections set up, publishing under way
  perf record -F 1500 -g -p "$sampled" -o "$WORK/$name.perf" -- sleep "$SECONDS_SAMPLED" >/dev/null 2>&1
  wait "$loadgen_pid" || echo "   (kp-loadgen exit status $?)" >&2
  stop_pid "$pid"
  STARTED=()
  local kernel send   # (awk reads to the end: with pipefail, perf must not get SIGPIPE)
  kernel=$(perf report -i "$WORK/$name.perf" --no-children --sort dso -g none 2>/dev/null |
           awk '/\[kernel\.kallsyms\]/ && !done {gsub("%", "", $1); print $1 / 100; done = 1}')
  send=$(perf report -i "$WORK/$name.perf" --children --sort sym -g none 2>/dev/null |
         awk '$NF == "tcp_sendmsg" && !done {gsub("%", "", $1); print $1 / 100; done = 1}')
  python3 - "$WORK/$name.json" "$target" "${kernel:-0}" "${send:-0}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(sys.argv[2], d["measured"]["server_cpu_us_per_delivery"], sys.argv[3], sys.argv[4], d["delivery"]["lost"])
PY
  sleep 1
}

results=$WORK/results.txt
for rep in $(seq "$REPS"); do
  order=(nchan kinto-push)
  [ $((rep % 2)) -eq 0 ] && order=(kinto-push nchan)
  for target in "${order[@]}"; do
    echo "== $target, run $rep" >&2
    profile_one "$target" "$rep" | tee -a "$results" >&2
  done
done

python3 - "$results" "$OUT" "$SHAPE" "$REPS" "$SECONDS_SAMPLED" "$SHARDS" "$(git -C "$ROOT" rev-parse --short HEAD)" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
out, shape, reps, seconds, shards, commit = sys.argv[2:8]
def med(target, f):
    return statistics.median(f(r) for r in rows if r[0] == target)
lines = [
    f"# Server CPU per delivery, split by perf: shape ({shape}), kinto-push beside nchan",
    "",
    f"`bench/profile-split.sh --reps {reps} --shape {shape} --seconds {seconds} --shards {shards}`, build `{commit}`;",
    f"medians of {reps} alternating runs; `perf record -g` sampled each server's event-loop process",
    f"for {seconds} s of each run. µs per delivery: kp-loadgen's server CPU / deliveries for the",
    "whole run; the parts: that figure times perf's shares (kernel: samples in the kernel;",
    "tcp_sendmsg: samples under it, i.e. the sends, the receiver's TCP path and its wake-up).",
    "perf's sampling adds its own cost to both servers' figures: compare the parts with each other.",
    "",
    "| server | µs per delivery | kernel, µs | of which tcp_sendmsg, µs | user space, µs | lost |",
    "|---|---:|---:|---:|---:|---:|",
]
for target in ("nchan", "kinto-push"):
    total = med(target, lambda r: float(r[1]))
    kernel = med(target, lambda r: float(r[1]) * float(r[2]))
    send = med(target, lambda r: float(r[1]) * float(r[3]))
    user = med(target, lambda r: float(r[1]) * (1 - float(r[2])))
    lost = sum(int(r[4]) for r in rows if r[0] == target)
    lines.append(f"| {target} | {total:.1f} | {kernel:.1f} | {send:.1f} | {user:.1f} | {lost} |")
n = med("nchan", lambda r: float(r[1]))
lines += ["", f"Half of nchan's CPU per delivery: {n / 2:.1f} µs."]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "summary: $OUT" >&2
