#!/usr/bin/env bash
# What the network costs: the same generated data set loaded by `loadstar coordinator` and 1, 2
# and 4 `loadstar worker`s, once over loopback (PostgreSQL, s3rver, coordinator and workers all on
# 127.0.0.1) and once across hosts (each of them in a network namespace of its own, cabled to a
# bridge: tests/tools/netns_lab). Wall time is from the coordinator's start to its exit; every
# load must build the same star tables (count and md5 of every table) as the first.
#
#   bench/multihost.sh [--events N] [--songs N] [--workers "1 2 4"] [--results DIR]
#
# Needs root (network namespaces) and a built loadstar ($LOADSTAR_BUILD_DIR/loadstar). Writes
# DIR/multihost.md (default bench/results). The namespaces it makes are named lsmb-*; it removes
# them, and every process it started, when it ends.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$BENCH_DIR/../scripts/lib/common.sh"

events=200000 songs=5000 workers_list="1 2 4" results="$BENCH_DIR/results"
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --songs) songs="$2"; shift 2 ;;
    --workers) workers_list="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
loadstar="$LOADSTAR_BUILD_DIR/loadstar"
[ -x "$loadstar" ] || die "no $loadstar: build it first (scripts/setup)"
lab="$LOADSTAR_ROOT/tests/tools/netns_lab"
prefix=lsmb
max_workers=0
for n in $workers_list; do [ "$n" -gt "$max_workers" ] && max_workers=$n; done

work="$(mktemp -d /tmp/loadstar-multihost-XXXXXX)"
chmod 755 "$work"
pids=()
pg_dirs=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for d in "${pg_dirs[@]}"; do runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true; done
  "$lab" down "$prefix" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# start_pg DIR ADDRESS PORT [NETNS]: a private PostgreSQL listening on ADDRESS only.
start_pg() {
  local dir="$1" address="$2" port="$3" ns="${4:-}"
  mkdir -p "$dir" && chown postgres: "$dir"
  runuser -u postgres -- "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1
  echo "host all all 10.213.0.0/24 trust" >>"$dir/data/pg_hba.conf"
  pg_dirs+=("$dir")
  ${ns:+ip netns exec "$ns"} runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
    -o "-c listen_addresses=$address -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null
}

# start_s3 DIR ADDRESS PORT [NETNS]: s3rver with the bucket sparkify, waited for.
start_s3() {
  local dir="$1" address="$2" port="$3" ns="${4:-}" i
  mkdir -p "$dir/data"
  NODE_OPTIONS=--openssl-legacy-provider ${ns:+ip netns exec "$ns"} node "$(readlink -f "$LOADSTAR_S3RVER")" \
    -d "$dir/data" -a "$address" -p "$port" --silent --configure-bucket sparkify >"$dir/s3rver.log" 2>&1 &
  pids+=($!)
  for ((i = 0; i < 100; i++)); do
    ${ns:+ip netns exec "$ns"} bash -c "exec 3<>/dev/tcp/$address/$port" 2>/dev/null && return 0
    sleep 0.1
  done
  die "s3rver did not start on $address:$port"
}

# on HOST CMD...: CMD on HOST (a namespace of the lab), or here when HOST is "local".
on() {
  local host="$1"; shift
  if [ "$host" = local ]; then "$@"; else ip netns exec "$prefix-$host" "$@"; fi
}

fingerprint() {  # HOST URI SCHEMA
  local sql="" t
  for t in songplays users songs artists time; do
    [ -n "$sql" ] && sql+=" UNION ALL "
    sql+="SELECT '$t=' || count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM \"$3\".$t x"
  done
  on "$1" "$PG_BINDIR/psql" -X -q -A -t -d "$2" -c "$sql" | tr '\n' ' '
}

# load SETUP WORKERS: one run into a fresh schema; prints the wall seconds.
load() {
  local setup="$1" n="$2" schema="${1}_w$2" coord_host worker_host listen uri endpoint i start end
  if [ "$setup" = loopback ]; then
    coord_host=local; listen="tcp://127.0.0.1:$zmq_port"; uri="$loopback_uri"; endpoint="$loopback_s3"
  else
    coord_host=coord; listen="tcp://10.213.0.10:5570"; uri="$netns_uri"; endpoint="$netns_s3"
  fi
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$endpoint"
  start=$(date +%s.%N)
  on "$coord_host" "$loadstar" coordinator --listen "$listen" --warehouse "$uri" --schema "$schema" --quiet \
    --songs s3://sparkify/song_data/ --events s3://sparkify/log_data/ >"$work/$schema.coordinator.log" 2>&1 &
  local coordinator=$!
  pids+=("$coordinator")
  for ((i = 1; i <= n; i++)); do
    worker_host=local; [ "$setup" = netns ] && worker_host="w$i"
    on "$worker_host" "$loadstar" worker --connect "$listen" --warehouse "$uri" --name "w$i" --give-up-after 20 \
      --log-level error >"$work/$schema.w$i.log" 2>&1 &
    pids+=($!)
  done
  wait "$coordinator" || die "the $setup load with $n workers failed: $(tail -5 "$work/$schema.coordinator.log")"
  end=$(date +%s.%N)
  wait  # the workers, told the run is over
  local fp; fp="$(fingerprint "$([ "$setup" = loopback ] && echo local || echo wh)" "$uri" "$schema")"
  if [ -z "$reference" ]; then reference="$fp"; elif [ "$fp" != "$reference" ]; then
    die "the $setup load with $n workers built other tables: $fp vs $reference"
  fi
  python3 -c "print(f'{$end - $start:.2f}')"
}

say "loopback: PostgreSQL and s3rver on 127.0.0.1"
pg_port=$(free_port); s3_port=$(free_port); zmq_port=$(free_port)
start_pg "$work/pg" 127.0.0.1 "$pg_port"
start_s3 "$work/s3" 127.0.0.1 "$s3_port"
loopback_uri="postgresql://postgres@127.0.0.1:$pg_port/postgres"
loopback_s3="http://127.0.0.1:$s3_port"

say "across hosts: $prefix-coord, $prefix-w1..w$max_workers, $prefix-wh (PostgreSQL), $prefix-s3 (s3rver)"
"$lab" up "$prefix" "$max_workers"
start_pg "$work/netns-pg" 10.213.0.2 5432 "$prefix-wh"
start_s3 "$work/netns-s3" 10.213.0.3 4569 "$prefix-s3"
netns_uri="postgresql://postgres@10.213.0.2:5432/postgres"
netns_s3="http://10.213.0.3:4569"

say "generating $events events and $songs song files into both S3 servers"
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$loopback_s3" \
  "$loadstar" generate --to s3://sparkify/ --events "$events" --songs "$songs" >/dev/null
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$netns_s3" \
  on coord "$loadstar" generate --to s3://sparkify/ --events "$events" --songs "$songs" >/dev/null

reference=""
declare -A wall
for n in $workers_list; do
  for setup in loopback netns; do
    say "$setup, $n worker(s)"
    wall[$setup.$n]="$(load "$setup" "$n")"
    echo "  ${wall[$setup.$n]} s" >&2
  done
done

mkdir -p "$results"
out="$results/multihost.md"
{
  echo "# loadstar over loopback vs across hosts (network namespaces)"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores; \`bench/multihost.sh --events $events --songs $songs\`"
  echo "(s3:// from s3rver, 30 daily logs + $songs song files; one run each). Across hosts every hop"
  echo "(coordinator-worker, worker-S3, worker-warehouse, coordinator-warehouse) crosses a veth pair and"
  echo "a bridge; over loopback none does. Every load built the same star tables. One run each on a"
  echo "shared machine: differences of a few tenths of a second are within its noise."
  echo
  echo "| workers | loopback wall s | across hosts wall s | across / loopback |"
  echo "| ---: | ---: | ---: | ---: |"
  for n in $workers_list; do
    ratio=$(python3 -c "print(f'{${wall[netns.$n]} / ${wall[loopback.$n]}:.2f}')")
    echo "| $n | ${wall[loopback.$n]} | ${wall[netns.$n]} | $ratio |"
  done
} >"$out"
cat "$out"
