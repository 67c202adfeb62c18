#!/usr/bin/env bash
# Instructions and allocations per published event in kinto-push: repeatable figures for
# comparing two builds of the publish path, where CPU time on this noisy machine is not.
# kinto-push runs under valgrind (callgrind: instructions; then heaptrack: allocations) with
# the memory store and one shard while kp-loadgen posts shape (b)'s events (1,000 channels x 5
# subscribers) at a slow rate, twice: LOW and HIGH events. The difference between the two runs,
# / (HIGH - LOW), is the cost of one event (its parse, mapping, store, 202 and 5 deliveries),
# without the start-up and the 5,000 connections' set-up. Builds nothing.
#
#   bench/instructions-per-event.sh [--bin build/release/server/kinto-push] [--low 1000]
#                                   [--high 3000] [--rate 200] [--top 25] [--no-heaptrack] [--out FILE]
#   -> bench/results/<date>-instructions-per-event.md, or FILE (totals, the costliest functions)
#
# Needs valgrind and heaptrack (apt-get install -y valgrind heaptrack). User-space work only:
# the kernel's part of each send is not counted. Repeats within a few percent (two runs of one
# build: 126,079 and 129,046 instructions): how many events one wake-up handles varies, and
# time-driven work (the keep-alive sweep over the 5,000 connections) runs more often in the
# longer run; compare builds at the same --rate. Only the processes started here are stopped,
# by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
KINTO_PUSH_BIN=$ROOT/build/release/server/kinto-push
KP_LOADGEN_BIN=${KP_LOADGEN_BIN:-$ROOT/build/release/bench/loadgen/kp-loadgen}
LOW=1000 HIGH=3000 RATE=200 TOP=25 HEAPTRACK=1 OUT=
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) KINTO_PUSH_BIN=$2; shift 2 ;;
    --low) LOW=$2; shift 2 ;;
    --high) HIGH=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --top) TOP=$2; shift 2 ;;
    --no-heaptrack) HEAPTRACK=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
for n in "$LOW" "$HIGH" "$RATE" "$TOP"; do
  [[ "$n" =~ ^[1-9][0-9]{0,5}$ ]] || { echo "--low, --high, --rate, --top: integers in 1..999999" >&2; exit 2; }
done
[ "$HIGH" -gt "$LOW" ] || { echo "--high must be above --low" >&2; exit 2; }
for b in "$KINTO_PUSH_BIN" "$KP_LOADGEN_BIN"; do
  [ -x "$b" ] || { echo "missing $b: build it first (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install -y valgrind" >&2; exit 2; }
if [ "$HEAPTRACK" = 1 ] && ! command -v heaptrack >/dev/null; then
  echo "heaptrack is needed (or --no-heaptrack): apt-get install -y heaptrack" >&2; exit 2
fi

DATE=$(date -u +%Y-%m-%d)
OUT=${OUT:-$ROOT/bench/results/$DATE-instructions-per-event.md}
WORK=$(mktemp -d /tmp/kp-instructions.XXXXXX)
ulimit -n "$(ulimit -Hn)"
# shellcheck source=bench/bench-processes.sh
. "$HERE/bench-processes.sh"

# One run: $1 tool (callgrind | heaptrack), $2 events. The tool's output: $WORK/$1-$2.out
measure() {
  local tool=$1 events=$2 port pid
  port=$(free_port)
  local server=("$KINTO_PUSH_BIN" --listen "127.0.0.1:$port" --store memory --history-size 2000 --shards 1
                --log-level warn)
  if [ "$tool" = callgrind ]; then
    valgrind --tool=callgrind --callgrind-out-file="$WORK/$tool-$events.out" "${server[@]}" 2>"$WORK/$tool-$events.log" &
  else
    heaptrack -o "$WORK/$tool-$events" "${server[@]}" >"$WORK/$tool-$events.log" 2>&1 &
  fi
  pid=$!; STARTED+=("$pid")
  local tries=600   # up to 60 s: the server starts slowly under valgrind
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || { echo "kinto-push did not start: $(tail -n 3 "$WORK/$tool-$events.log")" >&2; return 1; }
    sleep 0.1
  done
  timeout 300 "$KP_LOADGEN_BIN" --target kinto-push --url "http://127.0.0.1:$port" --mode live --channels 1000 \
    --subscribers 5000 --rate "$RATE" --events "$events" --threads 2 --publishers 8 --drain-seconds 10 \
    --max-seconds 240 --json "$WORK/loadgen-$tool-$events.json" >"$WORK/loadgen-$tool-$events.txt" 2>&1 ||
    { echo "kp-loadgen failed: $(tail -n 3 "$WORK/loadgen-$tool-$events.txt")" >&2; return 1; }
  # heaptrack's script runs the server as its child: stop that one, and heaptrack writes its file.
  local target=$pid
  if [ "$tool" = heaptrack ]; then
    target=$(pgrep -P "$pid" -f -- "--listen 127.0.0.1:$port" | head -n 1 || true)
    target=${target:-$pid}
  fi
  stop_pid "$target"
  if [ "$target" != "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
  STARTED=()
  python3 - "$WORK/loadgen-$tool-$events.json" "$events" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
accepted, lost = d["publish"]["accepted"], d["delivery"]["lost"]
if accepted != int(sys.argv[2]) or lost != 0:
    sys.exit(f"run of {sys.argv[2]} events: {accepted} accepted, {lost} lost")
PY
}

for tool in callgrind heaptrack; do
  [ "$tool" = heaptrack ] && [ "$HEAPTRACK" = 0 ] && continue
  for events in "$LOW" "$HIGH"; do
    echo "== $tool, $events events at $RATE/s" >&2
    measure "$tool" "$events"
  done
done

python3 - "$WORK" "$OUT" "$LOW" "$HIGH" "$RATE" "$TOP" "$HEAPTRACK" "$KINTO_PUSH_BIN" \
  "$(git -C "$ROOT" rev-parse --short HEAD)" <<'PY'
import collections, glob, re, subprocess, sys
work, out, low, high, rate, top, heaptrack, binary, commit = sys.argv[1:10]
low, high, top = int(low), int(high), int(top)
events = high - low

def simplify(name):
    name = re.sub(r"^(\?\?\?|/[^:]*|\./[^:]*|[^ :/]+\.(h|hpp|cpp|c|cc|tcc|ipp)):", "", name)
    name = re.sub(r" \[[^\]]*\]$", "", name)
    for _ in range(8):
        name = re.sub(r"<[^<>]*>", "", name)
    return name[:110]

def callgrind(path):   # total, {function: self instructions}
    text = subprocess.run(["callgrind_annotate", "--threshold=100", path], capture_output=True, text=True,
                          check=True).stdout
    total, functions = 0, collections.Counter()
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S.*?)\s*$", line) or re.match(r"\s*([\d,]+)\s+(\S.*?)\s*$", line)
        if not m:
            continue
        n, name = int(m.group(1).replace(",", "")), m.group(2)
        if name.startswith("PROGRAM TOTALS"):
            total = n
        else:
            functions[simplify(name)] += n
    return total, functions

def heaptrack_calls(stem):   # total allocation calls, {function: calls}
    found = glob.glob(stem + ".zst") + glob.glob(stem + ".gz")
    if not found:
        sys.exit(f"no heaptrack data at {stem}.zst or .gz")
    path = found[0]
    text = subprocess.run(["heaptrack_print", "-f", path, "-n", "400", "-s", "0", "--print-peaks", "0",
                           "--print-temporary", "0", "--print-leaks", "0"], capture_output=True, text=True).stdout
    total = int(re.search(r"calls to allocation functions: (\d+)", text).group(1))
    section = text[text.find("MOST CALLS"):]
    calls = collections.Counter()
    lines = section.splitlines()
    for i, line in enumerate(lines[:-1]):
        m = re.match(r"^(\d+) calls to allocation functions", line)
        if m:
            calls[simplify(lines[i + 1].strip())] += int(m.group(1))
    if not calls:   # heaptrack stopped before it wrote its call sites: no table rather than an empty one
        sys.exit(f"heaptrack_print found no allocation sites in {path}")
    return total, calls

(t_low, f_low), (t_high, f_high) = callgrind(f"{work}/callgrind-{low}.out"), callgrind(f"{work}/callgrind-{high}.out")
per_event = (t_high - t_low) / events
lines = [
    "# Instructions and allocations per published event (callgrind, heaptrack)",
    "",
    f"`bench/instructions-per-event.sh --low {low} --high {high} --rate {rate}` (checkout `{commit}`),",
    f"binary `{binary}`: kinto-push (memory store, one shard) under valgrind while kp-loadgen posts",
    f"shape (b)'s events (1,000 channels x 5 subscribers) at {rate}/s; the runs of {low} and {high}",
    f"events differ by {events} events, and the figures below are that difference / {events}.",
    "User space only. It repeats within a few percent: how many events one wake-up handles, and",
    "time-driven work (the keep-alive sweep over the connections), vary a little between runs.",
    "",
    f"**Instructions per event: {per_event:,.0f}**",
]
if heaptrack == "1":
    (a_low, c_low), (a_high, c_high) = heaptrack_calls(f"{work}/heaptrack-{low}"), heaptrack_calls(f"{work}/heaptrack-{high}")
    lines += ["", f"**Allocations per event: {(a_high - a_low) / events:.1f}**"]
lines += ["", f"Costliest functions (their own instructions, per event; top {top}):", "",
          "| instructions | function |", "|---:|---|"]
diff = sorted(((f_high[k] - f_low[k]) / events, k) for k in set(f_low) | set(f_high))
for v, k in reversed(diff[-top:]):
    lines.append(f"| {v:,.0f} | `{k}` |")
if heaptrack == "1":
    lines += ["", f"Where the allocations are made (calls per event; top {top}):", "", "| calls | from |", "|---:|---|"]
    diff = sorted(((c_high[k] - c_low[k]) / events, k) for k in set(c_low) | set(c_high))
    for v, k in reversed(diff[-top:]):
        if v >= 0.5:
            lines.append(f"| {v:.1f} | `{k}` |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines[:12]))
PY
echo "summary: $OUT" >&2
