#!/usr/bin/env bash
# kinto-push beside nchan, measured by the same load generator (kp-loadgen) in one run.
# Builds nothing: give it the binaries (defaults: the Release build of this checkout).
#
#   bench/compare-nchan.sh [--reps 3] [--shapes a,b,c,d,e,f] [--stores memory,sqlite] [--shards 1] [--no-nchan]
#                          [--before BIN] [--transports ws,ws-deflate,sse] [--payloads bench,typical,large]
#                          [--tag NAME]
#
#   KINTO_PUSH_BIN         default build/release/server/kinto-push
#   KP_LOADGEN_BIN         default build/release/bench/loadgen/kp-loadgen
#   KINTO_PUSH_BIN_BEFORE  default none; the same as --before
#
# Shapes: (a) 1 channel x 5,000 subscribers, 200 events/s; (b) 1,000 channels x 5, 1,000
# events/s; (c) 19,000 idle connections (the 20,000 file-descriptor cap of this machine);
# (d) saturation, 1 x 5,000; (e) resume, 1,000 clients x 1,000 missed events (kinto-push only);
# (f) 1 x 5,000 at 15 events/s, a load both servers carry: latency when neither is overloaded.
# --shards: kinto-push's event-loop threads per node (default 1: one event loop, as nchan runs
# one worker, since the load generator needs the machine's other core).
# Stores: memory, sqlite, redis (one node on a redis-server started here), redis2 (two nodes on
# it; kp-loadgen spreads subscribers and publishers over both, and the server figures add up
# both nodes and redis-server).
# Each run starts its server fresh on 127.0.0.1 and a free port (nchan: a private nginx prefix
# under /tmp, its conf generated from bench/nchan.conf.in), targets alternate within each
# repetition, every run is bounded in time. Raw JSON: bench/results/raw/<date>/; summary:
# bench/results/<date>-vs-nchan.md; charts: docs/images/bench-*.svg (gnuplot). With
# --no-nchan (comparing stores): raw/<date>-stores/, <date>-stores.md, bench-stores-*.svg.
# --before BIN (A/B of two builds): every repetition of every shape also runs that older
# kinto-push binary on the same stores (targets kinto-push-before-<store>), and the order of
# nchan / before / this build rotates from one repetition to the next, so none always runs first;
# the summary adds a table "this build vs the build before".
# --transports / --payloads (issue 19: SSE and permessage-deflate): every shape runs once per
# transport (ws: WebSocket; ws-deflate: WebSocket offering permessage-deflate, and nchan with
# `nchan_deflate_message_for_websocket on`; sse: Server-Sent Events, nchan's EventSource
# subscriber) and per payload (bench: the shapes' padded payload; typical: a Kinto record of a
# handful of fields; large: about 32 KiB of record, run on shape (g) only, and (g) only with
# it; (c) once, with the first payload), all of a shape's
# (transport, target) pairs rotating within each repetition. Raw JSON:
# bench/results/raw/<date>-transports/<shape>_<payload>_<transport>_<target>_<rep>.json; summary
# bench/results/<date>-transports.md (bench/transport_summary.py: medians, bytes on the wire per
# delivery, and the ratios kinto-push SSE / nchan SSE, SSE / WebSocket, deflate / uncompressed,
# kinto-push deflate / nchan deflate); no charts. --tag NAME: raw/<date>-NAME/ and
# <date>-NAME.md instead (several such runs on one day).
# Only the servers this script started are stopped, by PID, also on Ctrl-C.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
KINTO_PUSH_BIN=${KINTO_PUSH_BIN:-$ROOT/build/release/server/kinto-push}
KP_LOADGEN_BIN=${KP_LOADGEN_BIN:-$ROOT/build/release/bench/loadgen/kp-loadgen}
BEFORE_BIN=${KINTO_PUSH_BIN_BEFORE:-}
REPS=3
SHAPES=a,b,c,d,e,f
STORES=memory,sqlite
NCHAN=1
SHARDS=1
TRANSPORTS='' PAYLOADS='' TAG=''

while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --shapes) SHAPES=$2; shift 2 ;;
    --stores) STORES=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    --no-nchan) NCHAN=0; shift ;;
    --before) BEFORE_BIN=$2; shift 2 ;;
    --transports) TRANSPORTS=$2; shift 2 ;;
    --payloads) PAYLOADS=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$REPS" =~ ^[1-9][0-9]?$ ]] || { echo "--reps must be 1..99" >&2; exit 2; }
[[ "$SHARDS" =~ ^[1-9][0-9]?$ ]] || { echo "--shards must be 1..99" >&2; exit 2; }
for b in "$KINTO_PUSH_BIN" "$KP_LOADGEN_BIN"; do
  [ -x "$b" ] || { echo "missing $b: build it first (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
done
[ -z "$BEFORE_BIN" ] || [ -x "$BEFORE_BIN" ] || { echo "--before: $BEFORE_BIN is not an executable" >&2; exit 2; }
[[ ",$STORES," =~ ^(,(memory|sqlite|redis|redis2))+,$ ]] || { echo "--stores: memory, sqlite, redis, redis2" >&2; exit 2; }
[ "$NCHAN" = 0 ] || { command -v nginx >/dev/null && [ -f /usr/lib/nginx/modules/ngx_nchan_module.so ]; } ||
  { echo "nginx and nchan are needed: apt-get install -y nginx-light libnginx-mod-nchan" >&2; exit 2; }
[[ ",$STORES," != *,redis* ]] || command -v redis-server >/dev/null ||
  { echo "redis-server is needed: apt-get install -y redis-server" >&2; exit 2; }

TRANSPORT_MODE=0   # --transports or --payloads given: runs per transport and payload, their own summary
if [ -n "$TRANSPORTS$PAYLOADS" ]; then
  TRANSPORT_MODE=1
  TRANSPORTS=${TRANSPORTS:-ws} PAYLOADS=${PAYLOADS:-bench}
  [[ ",$TRANSPORTS," =~ ^(,(ws|ws-deflate|sse))+,$ ]] || { echo "--transports: ws, ws-deflate, sse" >&2; exit 2; }
  [[ ",$PAYLOADS," =~ ^(,(bench|typical|large))+,$ ]] || { echo "--payloads: bench, typical, large" >&2; exit 2; }
  [ -z "$BEFORE_BIN" ] || { echo "--before does not combine with --transports / --payloads" >&2; exit 2; }
fi

DATE=$(date -u +%Y-%m-%d)
NAME=$DATE-vs-nchan RAW=$ROOT/bench/results/raw/$DATE CHARTS=bench
[ "$NCHAN" = 1 ] || { NAME=$DATE-stores RAW=$ROOT/bench/results/raw/$DATE-stores CHARTS=bench-stores; }
[ "$TRANSPORT_MODE" = 0 ] || { NAME=$DATE-transports RAW=$ROOT/bench/results/raw/$DATE-transports; }
if [ -n "$TAG" ]; then
  [[ "$TAG" =~ ^[a-z0-9][a-z0-9-]{0,40}$ ]] || { echo "--tag: lower-case letters, digits and dashes" >&2; exit 2; }
  NAME=$DATE-$TAG RAW=$ROOT/bench/results/raw/$DATE-$TAG
fi
SUMMARY=$ROOT/bench/results/$NAME.md
mkdir -p "$RAW" "$ROOT/docs/images"
WORK=$(mktemp -d /tmp/kp-compare.XXXXXX)
ulimit -n "$(ulimit -Hn)"   # servers and load generator inherit the whole fd limit

# shellcheck source=bench/bench-processes.sh
. "$HERE/bench-processes.sh"   # STARTED, stop_pid, cleanup (at exit), free_port, wait_port, launch_nchan
# shellcheck source=bench/bench-shapes.sh
. "$HERE/bench-shapes.sh"      # shape_args

SERVER_URL='' SERVER_PIDS='' SERVER_GROUP=()   # the URL(s) and PIDs of the server under test, and what to stop
start_kinto_push() {   # $1 = memory|sqlite|redis|redis2, $2 = run name, $3 = binary (default KINTO_PUSH_BIN)
  local bin=${3:-$KINTO_PUSH_BIN} store=memory nodes=1 i port urls=() pids=()
  SERVER_GROUP=()
  case "$1" in
    sqlite) store=sqlite:$WORK/$2.sqlite3 ;;
    redis|redis2)
      port=$(free_port)
      # Persistence as a production node would have it: the append-only file, fsync every second.
      redis-server --bind 127.0.0.1 --port "$port" --dir "$WORK" --appendonly yes --appendfsync everysec \
        --appendfilename "$2.aof" --save '' --daemonize no >"$WORK/$2.redis.log" 2>&1 &
      STARTED+=("$!"); SERVER_GROUP+=("$!"); pids+=("$!")
      wait_port "$port" || { echo "redis-server did not start:" >&2; cat "$WORK/$2.redis.log" >&2; return 1; }
      store=redis://127.0.0.1:$port/0
      [ "$1" = redis2 ] && nodes=2 ;;
  esac
  for i in $(seq "$nodes"); do
    port=$(free_port)
    # --log-level warn: no line per request, as nchan runs with access_log off.
    "$bin" --listen "127.0.0.1:$port" --store "$store" --history-size 2000 --log-level warn --shards "$SHARDS" \
      2>"$WORK/$2.$i.log" &
    STARTED+=("$!"); SERVER_GROUP+=("$!"); pids=("$!" "${pids[@]}")
    wait_port "$port" || { echo "kinto-push did not start:" >&2; cat "$WORK/$2.$i.log" >&2; return 1; }
    urls+=("http://127.0.0.1:$port")
  done
  SERVER_URL=$(IFS=,; echo "${urls[*]}")
  SERVER_PIDS=$(IFS=,; echo "${pids[*]}")
}
start_nchan() {   # $1 = run name, $2 = 1: deflate each message for websocket subscribers
  local port
  port=$(free_port)
  NCHAN_DEFLATE=${2:-0} launch_nchan "$WORK/nchan-$1" "$port" || return 1
  SERVER_GROUP=("$NCHAN_MASTER")
  SERVER_URL=http://127.0.0.1:$port
  SERVER_PIDS=$NCHAN_MASTER${NCHAN_WORKERS:+,$NCHAN_WORKERS}
}
stop_server() {   # the nodes first, then redis-server (their store)
  local keep=() pid i
  for ((i = ${#SERVER_GROUP[@]} - 1; i >= 0; i--)); do stop_pid "${SERVER_GROUP[i]}"; done
  for pid in "${STARTED[@]}"; do [[ " ${SERVER_GROUP[*]} " == *" $pid "* ]] || keep+=("$pid"); done
  STARTED=("${keep[@]}")
  SERVER_GROUP=()
}

run_one() {   # $1 shape, $2 target (nchan | kinto-push-STORE | kinto-push-before-STORE), $3 rep
              # [$4 transport, $5 payload: transport mode]
  local shape=$1 target=$2 rep=$3 name=$1-$2-$3 loadgen_target=kinto-push transport=${4:-} payload=${5:-} extra=()
  if [ -n "$transport" ]; then
    name=${shape}_${payload}_${transport}_${target}_${rep}
    extra=(--transport "$transport" --payload "$payload")
  fi
  case "$target" in
    nchan) start_nchan "$name" "$([ "$transport" = ws-deflate ] && echo 1 || echo 0)"; loadgen_target=nchan ;;
    kinto-push-before-*) start_kinto_push "${target#kinto-push-before-}" "$name" "$BEFORE_BIN" ;;
    kinto-push-*) start_kinto_push "${target#kinto-push-}" "$name" ;;
  esac
  local load_before
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "== $name ($SERVER_URL, pids $SERVER_PIDS; load average $load_before)"
  # shellcheck disable=SC2046
  timeout 300 "$KP_LOADGEN_BIN" --target "$loadgen_target" --url "$SERVER_URL" --server-pid "$SERVER_PIDS" \
    $(shape_args "$shape") "${extra[@]}" --json "$RAW/$name.json" >"$RAW/$name.txt" 2>&1 || echo "   (kp-loadgen exit status $?)"
  echo "load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/$name.txt"
  sed 's/^/   /' "$RAW/$name.txt"
  stop_server
  sleep 1
}

IFS=, read -r -a shape_list <<<"$SHAPES"
IFS=, read -r -a store_list <<<"$STORES"
if [ "$TRANSPORT_MODE" = 1 ]; then
  IFS=, read -r -a transport_list <<<"$TRANSPORTS"
  IFS=, read -r -a payload_list <<<"$PAYLOADS"
  for rep in $(seq "$REPS"); do
    for shape in "${shape_list[@]}"; do
      for payload in "${payload_list[@]}"; do
        # large goes with (g) only (elsewhere it would be gigabytes per second), (g) with large
        # only; idle (c) publishes nothing: once, with the first payload
        case "$shape:$payload" in g:large) ;; g:*|*:large) continue ;; esac
        [ "$shape" = c ] && [ "$payload" != "${payload_list[0]}" ] && continue
        pairs=()   # transport:target, rotated from one repetition to the next
        for transport in "${transport_list[@]}"; do
          [ "$NCHAN" = 1 ] && [ "$shape" != e ] && pairs+=("$transport:nchan")
          for store in "${store_list[@]}"; do
            case "$shape:$store" in c:sqlite|d:sqlite|c:redis*|d:redis*) continue ;; esac
            pairs+=("$transport:kinto-push-$store")
          done
        done
        for ((i = 0; i < ${#pairs[@]}; i++)); do
          pair=${pairs[(i + rep - 1) % ${#pairs[@]}]}
          run_one "$shape" "${pair#*:}" "$rep" "${pair%%:*}" "$payload"
        done
      done
    done
  done
  python3 "$HERE/transport_summary.py" --raw "$RAW" --out "$SUMMARY" --kinto-push-bin "$KINTO_PUSH_BIN" \
    --shards "$SHARDS" --checkout "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "summary: $SUMMARY; raw runs: $RAW"
  exit 0
fi
for rep in $(seq "$REPS"); do
  for shape in "${shape_list[@]}"; do
    # groups of targets: nchan, the build before (--before), this build (each on every store)
    groups=() after='' before=''
    [ "$NCHAN" = 1 ] && [ "$shape" != e ] && groups+=(nchan)
    for store in "${store_list[@]}"; do
      case "$shape:$store" in
        c:sqlite|d:sqlite|c:redis*|d:redis*) ;;   # connections and saturation hardly touch the store: memory only
        *) after+=" kinto-push-$store"; before+=" kinto-push-before-$store" ;;
      esac
    done
    [ -n "$BEFORE_BIN" ] && groups+=("$before")
    groups+=("$after")
    # rotate which group goes first from one repetition to the next (two groups: they alternate)
    targets=()
    for ((i = 0; i < ${#groups[@]}; i++)); do
      # shellcheck disable=SC2206
      targets+=(${groups[(i + rep - 1) % ${#groups[@]}]})
    done
    for target in "${targets[@]}"; do run_one "$shape" "$target" "$rep"; done
  done
done

ab=()   # A/B: both builds named in the summary (--version, bounded: an old build may not know it)
[ -z "$BEFORE_BIN" ] || ab=(--before-bin "$BEFORE_BIN"
  --before-version "$(timeout 5 "$BEFORE_BIN" --version 2>/dev/null </dev/null | head -1 || true)"
  --kinto-push-version "$(timeout 5 "$KINTO_PUSH_BIN" --version 2>/dev/null </dev/null | head -1 || true)")
python3 "$HERE/compare_summary.py" --raw "$RAW" --out "$SUMMARY" --images "$ROOT/docs/images" \
  --kinto-push-bin "$KINTO_PUSH_BIN" --shards "$SHARDS" --chart-prefix "$CHARTS" \
  --checkout "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" "${ab[@]}"
echo "summary: $SUMMARY; raw runs: $RAW; charts: docs/images/$CHARTS-latency.svg, docs/images/$CHARTS-cpu-per-delivery.svg"
