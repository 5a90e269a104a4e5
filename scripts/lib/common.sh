# Shared by the scripts in scripts/: where things are, and small helpers. Source it; don't run it.
LOADSTAR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOADSTAR_TOOLS_DIR="${LOADSTAR_TOOLS_DIR:-$LOADSTAR_ROOT/.tools}"
LOADSTAR_BUILD_DIR="${LOADSTAR_BUILD_DIR:-$LOADSTAR_ROOT/build}"
LOADSTAR_S3RVER="${LOADSTAR_S3RVER:-$LOADSTAR_TOOLS_DIR/node_modules/.bin/s3rver}"
PG_BINDIR="${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
export LOADSTAR_S3RVER PG_BINDIR

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A TCP port nobody listens on right now.
free_port() {
  python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}
