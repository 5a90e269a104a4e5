#!/usr/bin/env bash
# Checks compose/ without a Docker engine:
#   - `docker-compose config` accepts compose/docker-compose.yml (with the example env files);
#   - the services the deployment relies on are there, with their commands, healthchecks and
#     depends_on conditions, and the worker can be scaled;
#   - no secret is written in the compose file, nor reaches a command line or a healthcheck;
#   - the image is built from Debian 12 by scripts/setup, in more than one stage.
# Usage: tests/compose_config_test.sh [REPO_ROOT]. Fails without docker-compose (scripts/setup installs it).
set -euo pipefail

root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
dir="$root/compose"
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in docker-compose python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is not installed (scripts/setup installs it)"; exit 1; }
done

# The Dockerfile: Debian 12, built by scripts/setup, a separate runtime stage.
dockerfile="$dir/Dockerfile"
[ -f "$dockerfile" ] || fail "no $dockerfile"
grep -Eq '^FROM[[:space:]]+debian:12([[:space:]]|$)' "$dockerfile" || fail "the build stage is not FROM debian:12"
grep -Eq '^RUN[[:space:]].*scripts/setup' "$dockerfile" || fail "the Dockerfile does not build with scripts/setup"
[ "$(grep -Ec '^FROM[[:space:]]' "$dockerfile")" -ge 2 ] || fail "the Dockerfile has a single stage"
grep -Eq '^ENTRYPOINT[[:space:]]+\["loadstar"\]' "$dockerfile" || fail "the image's entrypoint is not loadstar"

# Resolve the compose file with the example env files, every profile on.
export LOADSTAR_ENV_DIR=./env.example
resolved="$(mktemp)"
trap 'rm -f "$resolved"' EXIT
docker-compose -f "$dir/docker-compose.yml" --profile tools config >"$resolved" \
  || fail "docker-compose config rejected compose/docker-compose.yml"

python3 - "$dir" "$resolved" <<'PY'
import os
import re
import sys

import yaml

compose_dir, resolved_path = sys.argv[1], sys.argv[2]
errors = []


def check(ok, message):
    if not ok:
        errors.append(message)


with open(resolved_path) as f:
    resolved = yaml.safe_load(f)
with open(os.path.join(compose_dir, "docker-compose.yml")) as f:
    raw_text = f.read()
raw = yaml.safe_load(raw_text)
services = resolved.get("services", {})

for name in ["postgres", "minio", "createbucket", "coordinator", "worker", "generate"]:
    check(name in services, f"service {name} is missing")
if errors:
    sys.exit("FAIL: " + "; ".join(errors))


def contains(seq, sub):
    return any(seq[i:i + len(sub)] == sub for i in range(len(seq) - len(sub) + 1))


def condition(service, dependency):
    deps = services[service].get("depends_on", {})
    return deps.get(dependency, {}).get("condition") if isinstance(deps, dict) else None


check(str(services["postgres"].get("image", "")).startswith("postgres:15"), "postgres is not PostgreSQL 15")
for name in ["postgres", "minio", "coordinator", "worker"]:
    check(services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck")

coordinator = services["coordinator"].get("command", [])
check(coordinator[:1] == ["coordinator"], "the coordinator service does not run `loadstar coordinator`")
for flag in (["--listen", "tcp://*:5570"], ["--songs", "s3://sparkify/song_data/"],
             ["--events", "s3://sparkify/log_data/"], ["--schema", "sparkify"]):
    check(contains(coordinator, flag), f"coordinator command lacks {' '.join(flag)}")
check("--warehouse" in coordinator, "coordinator command lacks --warehouse")

worker = services["worker"].get("command", [])
check(worker[:3] == ["worker", "--connect", "tcp://coordinator:5570"],
      "the worker service does not run `loadstar worker --connect tcp://coordinator:5570`")
check("--warehouse" in worker, "worker command lacks --warehouse")
check("container_name" not in services["worker"], "worker has a container_name: it cannot be scaled")
check(not services["worker"].get("ports"), "worker publishes ports: it cannot be scaled")

for service, dependency, expected in [
        ("createbucket", "minio", "service_healthy"),
        ("coordinator", "postgres", "service_healthy"),
        ("coordinator", "createbucket", "service_completed_successfully"),
        ("worker", "postgres", "service_healthy"),
        ("worker", "coordinator", "service_healthy"),
        ("generate", "createbucket", "service_completed_successfully")]:
    got = condition(service, dependency)
    check(got == expected, f"{service} depends on {dependency} with {got!r}, expected {expected!r}")

for name in ["coordinator", "worker", "generate"]:
    build = services[name].get("build", {})
    check(str(build.get("dockerfile", "")).endswith("compose/Dockerfile"), f"{name} is not built from compose/Dockerfile")

# Secrets: only in env files. The compose file itself names none in `environment`, and no secret
# value (those of the example env files) appears in it, in a command, entrypoint or healthcheck.
secret_values = set()
env_dir = os.path.join(compose_dir, "env.example")
for env_file in sorted(os.listdir(env_dir)):
    with open(os.path.join(env_dir, env_file)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                if any(word in key for word in ("PASSWORD", "SECRET", "KEY_ID", "TOKEN", "USER")):
                    secret_values.add(value)
check(secret_values, "the example env files hold no credentials")
for value in secret_values:
    check(value not in raw_text, f"a credential from env.example is written in docker-compose.yml")

def environment_keys(service):
    env = service.get("environment", {}) or {}
    return env.keys() if isinstance(env, dict) else [item.split("=", 1)[0] for item in env]

for name, service in list((raw.get("services") or {}).items()) + [("x-loadstar", raw.get("x-loadstar", {}))]:
    for key in environment_keys(service):
        check(not any(word in key for word in ("PASSWORD", "SECRET", "TOKEN")),
              f"{name} sets {key} in docker-compose.yml: secrets belong in the env files")
for name, service in services.items():
    visible = yaml.safe_dump({k: service.get(k) for k in ("command", "entrypoint", "healthcheck")})
    for value in secret_values:
        check(value not in visible, f"a credential reaches the command line or healthcheck of {name}")
    for arg in service.get("command", []) or []:
        # scheme://user:password@host with a literal password (a shell variable is fine).
        for password in re.findall(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@", str(arg)):
            check("$" in password, f"{name} has a password in a URI on its command line")

if errors:
    sys.exit("FAIL: " + "\n  ".join(errors))
print(f"compose: {len(services)} services OK: {', '.join(sorted(services))}")
PY
echo "compose/Dockerfile builds with scripts/setup from debian:12"
