#!/usr/bin/env bash
# How many workers one coordinator serves: 1,000 simulated workers against a real coordinator.
#
#   bench/capacity.sh            1,000 workers (4 processes x 250 sockets), 100,000 song files in
#                                10,000 tasks of 10; writes bench/results/capacity.md (and .json)
#   bench/capacity.sh --smoke    50 workers, 2,000 files in 200 tasks (< 30 s); checks that every
#                                task was acknowledged and the ledger holds every file, not how fast
#
# Options:
#   --workers N       simulated workers (default 1000)
#   --procs N         simulator processes they are spread over (default 4)
#   --files N         song files; tasks are N / --task-files (default 100000)
#   --task-files N    files per task (default 10)
#   --credit N        tasks each worker may hold (default 2)
#   --stagers N       staging threads (each one warehouse connection) per simulator process (default 2)
#   --idle-s S        the heartbeat window: every worker registered, none leased anything (default 10)
#   --no-perf         do not profile the coordinator with perf
#   --results FILE    the markdown to write (default bench/results/capacity.md; --smoke: a
#                     temporary file, so a smoke run never replaces a real result)
#   --keep            leave PostgreSQL and the work directory in place, and say where they are
#   -h, --help        this text
#
# It starts a private PostgreSQL (with pg_stat_statements and auto_explain when they load), has
# `loadstar generate` write the song files into a work directory (on tmpfs, /dev/shm, when it has
# 4 GB free), and runs bench/capacity.py, which runs `loadstar coordinator` twice on
# tcp://127.0.0.1 with --insecure-plaintext (loopback only) against build/bench/loadstar_capacity_sim
# processes whose workers speak the real protocol (common/transport, proto/):
#   staged      the workers stage every task with the worker's own stager (so the coordinator's
#               checks against the ledger pass), after a heartbeat window in which every worker is
#               registered with credit 0 and leased nothing
#   pre-staged  every file is staged for the run first, and the workers answer each task at once
#               with the accounts the ledger holds: the coordinator alone
# and reports the dispatch rate (tasks leased, reported and confirmed per second), the heartbeat
# load (coordinator CPU and messages per second with every worker idle), the coordinator's peak
# RSS, where its loop thread's time goes (perf, schedstat, /proc samples of the thread's state)
# and what PostgreSQL spent its time on. Everything it starts is stopped on the way out; each
# simulator also exits by itself after its deadline. Needs build/loadstar and
# build/bench/loadstar_capacity_sim (it builds them if missing), PostgreSQL's server binaries and
# psql; perf is optional. Exit code 0 when, in both runs, every task was acknowledged, every
# worker was told the run is over, and the ledger and the songs table hold every file.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../scripts/lib/common.sh"
source "$BENCH_DIR/../scripts/lib/services.sh"

WORKERS=1000 PROCS=4 FILES=100000 TASK_FILES=10 CREDIT=2 STAGERS=2 IDLE_S=10 SETTLE_S=5 PERF=1
SMOKE=0 KEEP=0 RESULTS="" DISPATCH_TIMEOUT_S=150
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1; shift ;;
    --workers) need_value "$@"; WORKERS="$2"; shift 2 ;;
    --procs) need_value "$@"; PROCS="$2"; shift 2 ;;
    --files) need_value "$@"; FILES="$2"; shift 2 ;;
    --task-files) need_value "$@"; TASK_FILES="$2"; shift 2 ;;
    --credit) need_value "$@"; CREDIT="$2"; shift 2 ;;
    --stagers) need_value "$@"; STAGERS="$2"; shift 2 ;;
    --idle-s) need_value "$@"; IDLE_S="$2"; shift 2 ;;
    --no-perf) PERF=0; shift ;;
    --results) need_value "$@"; RESULTS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
if [ "$SMOKE" = 1 ]; then
  WORKERS=50 PROCS=2 FILES=2000 TASK_FILES=10 IDLE_S=3 SETTLE_S=3 PERF=0 DISPATCH_TIMEOUT_S=60
fi
for n in "$WORKERS" "$PROCS" "$FILES" "$TASK_FILES" "$CREDIT" "$STAGERS" "$IDLE_S"; do
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] || die "'$n' is not a positive whole number (see --help)"
done
[ "$PROCS" -le "$WORKERS" ] || die "--procs is more than --workers"
[ $(( (WORKERS + PROCS - 1) / PROCS )) -le 1000 ] || die "at most 1,000 workers per process: raise --procs"

command -v psql >/dev/null 2>&1 || die "psql is needed (run scripts/setup)"
TARGETS=()
[ -x "$LOADSTAR_BUILD_DIR/loadstar" ] || TARGETS+=(loadstar)
[ -x "$LOADSTAR_BUILD_DIR/bench/loadstar_capacity_sim" ] || TARGETS+=(loadstar_capacity_sim)
if [ ${#TARGETS[@]} -gt 0 ]; then
  say "building ${TARGETS[*]}"
  cmake --build "$LOADSTAR_BUILD_DIR" --target "${TARGETS[@]}" -j"$(nproc)" >/dev/null \
    || die "could not build ${TARGETS[*]} in $LOADSTAR_BUILD_DIR"
fi

# The work directory (the song files, PostgreSQL's data) goes on tmpfs when there is room: 100,000
# small files and a commit per task are then not slowed by a disk other work is using, and what
# is measured is the coordinator, not the disk.
WORK_ROOT="${TMPDIR:-/tmp}"
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((4 * 1024 * 1024)) ]; then
  WORK_ROOT=/dev/shm
fi
WORK=$(mktemp -d "$WORK_ROOT/loadstar-capacity-XXXXXX")
chmod 755 "$WORK"
if [ -z "$RESULTS" ]; then
  if [ "$SMOKE" = 1 ]; then RESULTS="$WORK/capacity.md"; else RESULTS="$BENCH_DIR/results/capacity.md"; fi
fi
DRIVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM "$DRIVER_PID" 2>/dev/null || true   # it stops the processes it started, then exits
    wait "$DRIVER_PID" 2>/dev/null || true
  fi
  if [ "$KEEP" = 1 ]; then
    say "left running: PostgreSQL $PG_URI; files and logs in $WORK"
    echo "  stop: runuser -u postgres -- $PG_BINDIR/pg_ctl -D $WORK/pg/data stop" >&2
    return
  fi
  stop_postgres "$WORK/pg"
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting a private PostgreSQL in $WORK"
PG_URI=""
start_postgres "$WORK/pg"
# pg_stat_statements (what PostgreSQL spends its time on while tasks are staged) and auto_explain
# (the plans it ran them with, a sample of the slower ones logged): optional.
AS_PG=()
[ "$(id -u)" -eq 0 ] && AS_PG=(runuser -u postgres --)
STATEMENTS=0
if psql -X -q -d "$PG_URI" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', 'auto_explain'" \
     >/dev/null 2>&1 \
  && "${AS_PG[@]}" "$PG_BINDIR/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/pg.log" -w -t 30 -m fast restart >/dev/null \
  && psql -X -q -d "$PG_URI" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
       -c "ALTER SYSTEM SET auto_explain.log_min_duration = '2ms'" -c "ALTER SYSTEM SET auto_explain.sample_rate = 0.05" \
       -c "SELECT pg_reload_conf()" >/dev/null 2>&1; then
  STATEMENTS=1
else
  say "pg_stat_statements or auto_explain is not available: PostgreSQL's time by statement is left out"
  "${AS_PG[@]}" "$PG_BINDIR/pg_ctl" -D "$WORK/pg/data" status >/dev/null 2>&1 \
    || die "PostgreSQL did not come back after loading them; see $WORK/pg/pg.log"
fi
# In the background, so that a signal to this script is handled at once (the trap stops it).
python3 "$BENCH_DIR/capacity.py" --root "$LOADSTAR_ROOT" --build "$LOADSTAR_BUILD_DIR" --work "$WORK" \
  --pg-uri "$PG_URI" --pg-dir "$WORK/pg" --workers "$WORKERS" --procs "$PROCS" --files "$FILES" \
  --task-files "$TASK_FILES" --credit "$CREDIT" --stagers "$STAGERS" --settle-s "$SETTLE_S" --idle-s "$IDLE_S" \
  --dispatch-timeout-s "$DISPATCH_TIMEOUT_S" --perf "$PERF" --statements "$STATEMENTS" --pg-log "$WORK/pg/pg.log" --results "$RESULTS" $([ "$SMOKE" = 1 ] && echo --smoke) &
DRIVER_PID=$!
wait "$DRIVER_PID"
