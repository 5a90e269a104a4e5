# Private services for the demo and for people trying loadstar by hand. Source it after common.sh.
#   start_postgres DIR   -> sets PG_PORT, PG_URI; stop_postgres DIR
#   start_s3 DIR BUCKET  -> sets S3_PORT and exports the AWS_* variables; stop_s3

start_postgres() {
  local dir="$1"
  [ -x "$PG_BINDIR/initdb" ] || die "PostgreSQL server binaries not found (run scripts/setup)"
  mkdir -p "$dir"
  local as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"; chmod 755 "$dir"
    as_pg=(runuser -u postgres --)
  fi
  PG_PORT=$(free_port)
  "${as_pg[@]}" "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || die "initdb failed; see $dir/initdb.log"
  "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $dir" start >/dev/null \
    || die "PostgreSQL did not start; see $dir/pg.log"
  PG_URI="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
}

stop_postgres() {
  local dir="$1" as_pg=()
  [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
  [ -d "$dir/data" ] && "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

start_s3() {
  local dir="$1" bucket="$2"
  [ -x "$LOADSTAR_S3RVER" ] || die "the local S3 server is not installed (run scripts/setup)"
  mkdir -p "$dir/s3"
  S3_PORT=$(free_port)
  NODE_OPTIONS=--openssl-legacy-provider "$LOADSTAR_S3RVER" -d "$dir/s3" -a 127.0.0.1 -p "$S3_PORT" \
    --configure-bucket "$bucket" --silent >"$dir/s3.log" 2>&1 &
  S3_PID=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break
    sleep 0.1
  done
  curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" || die "the local S3 server did not start; see $dir/s3.log"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$S3_PORT"
}

stop_s3() { [ -n "${S3_PID:-}" ] && kill "$S3_PID" 2>/dev/null; wait "${S3_PID:-}" 2>/dev/null || true; }
