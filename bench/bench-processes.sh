# Shell helpers shared by the benchmark scripts (sourced, not run): the processes a script
# starts, on 127.0.0.1 only, and their stop by PID only (also on Ctrl-C). The sourcing script
# sets WORK (a temp directory, removed at exit unless KEEP_WORK is set) before it starts
# anything.

STARTED=()   # PIDs of the processes this script started, in start order

stop_pid() {   # SIGTERM, then SIGKILL after 10 s, of one PID we started
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 100); do
    # gone, or exited and waiting to be reaped (our child)
    if ! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
      wait "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {   # the last started first (servers before the store they use)
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED[i]}"; done
  STARTED=()
  [ -n "${WORK:-}" ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {   # until 127.0.0.1:$1 accepts, at most 10 s
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# nginx with nchan, configured from bench/nchan.conf.in under the private prefix $1 (created),
# listening on 127.0.0.1:$2; waits until it accepts. Sets NCHAN_MASTER (also in STARTED) and
# NCHAN_WORKERS (comma-separated). The sourcing script sets HERE (the bench folder).
# NCHAN_DEFLATE=1: the publisher location deflates each message for websocket subscribers.
launch_nchan() {
  local prefix=$1 port=$2
  mkdir -p "$prefix"/{body,proxy,fastcgi,uwsgi,scgi}
  chmod 777 "$prefix" "$prefix"/{body,proxy,fastcgi,uwsgi,scgi}
  chmod 755 "$(dirname "$prefix")"   # nginx's workers run as another user
  local extra=''
  [ "${NCHAN_DEFLATE:-0}" = 1 ] && extra='nchan_deflate_message_for_websocket on;'
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" -e "s|@PUBLISHER_EXTRA@|$extra|g" \
    "$HERE/nchan.conf.in" >"$prefix/nginx.conf"
  nginx -p "$prefix/" -c "$prefix/nginx.conf" 2>"$prefix/stderr.log" &
  NCHAN_MASTER=$!
  STARTED+=("$NCHAN_MASTER")
  wait_port "$port" || { echo "nchan did not start:" >&2; cat "$prefix/stderr.log" "$prefix/error.log" >&2; return 1; }
  NCHAN_WORKERS=$(pgrep -P "$NCHAN_MASTER" | paste -sd, -)
}
