# Shell helpers shared by the benchmark scripts (sourced, not run): the processes a script
# starts, on 127.0.0.1 only, and their stop by PID only (also on Ctrl-C). The sourcing script
# sets WORK (a temp directory, removed at exit) before it starts anything.

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
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
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
