#!/usr/bin/env bash
# Production smoke: install the hotline as production does (`pip install .`, no development
# extras) into a clean virtual environment, then, once with Redis and once with RabbitMQ as the
# broker and PostgreSQL as the database, migrate a new database and start `hotline web`,
# `hotline worker` and `hotline beat`. It passes when /healthz answers, an emergency text to
# the local line has its on-duty alert texted by the worker (web -> broker -> worker ->
# database), and a beat job runs on the worker (beat -> broker -> worker -> database).
# A dependency that only the development tools bring in fails it. Every process it starts is
# stopped when it ends, and what failed is printed with the end of each process's log.
#
#   scripts/production_smoke.sh          (from `make smoke` and .ci/run; about 1-2 minutes)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PG_HOST=127.0.0.1
PG_USER=postgres
REDIS_HOST=127.0.0.1
AMQP_BASE="amqp://guest:guest@127.0.0.1:5672"
WAIT_S=45  # longest wait for any one thing to happen (beat's dispatcher ticks every 15 s)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hotline-smoke.XXXXXX")"
VENV="$WORK/venv"
PIDS=()
NAMES=()  # NAMES[i] is the process PIDS[i] runs
DATABASES=()
VHOSTS=()
REDIS_DBS=()
STEP="starting"

fail() {
  echo "production smoke FAILED at: $STEP" >&2
  echo "  $*" >&2
  exit 1
}

show_logs() {
  for log in "$WORK"/logs/*.log; do
    [ -s "$log" ] || continue
    echo "---- last lines of $(basename "$log") ----" >&2
    tail -n 25 "$log" >&2
  done
}

stop_processes() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  PIDS=()
  NAMES=()
}

cleanup() {
  local status=$?
  set +e  # clean up everything, whatever fails on the way
  trap '' PIPE  # a reader that went away (| head) must not cut the clean-up short
  stop_processes
  for name in "${DATABASES[@]}"; do
    dropdb -h "$PG_HOST" -U "$PG_USER" --if-exists --force "$name" 2>/dev/null || true
  done
  for vhost in "${VHOSTS[@]}"; do
    rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
  done
  for number in "${REDIS_DBS[@]}"; do
    redis-cli -h "$REDIS_HOST" -n "$number" flushdb >/dev/null 2>&1 || true
  done
  [ "$status" -ne 0 ] && show_logs
  rm -rf "$WORK"
  if [ "$status" -eq 0 ]; then echo "production smoke passed"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 141' PIPE

# Started in a process group of its own, so stopping it stops its children (gunicorn's and
# Celery's workers) too, and nothing else.
start() {
  local name=$1
  shift
  setsid "$@" >"$WORK/logs/$name.log" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
}

still_running() {
  local i
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$i]}" 2>/dev/null \
      || fail "hotline ${NAMES[$i]#*-} exited early: see $(basename "${NAMES[$i]}").log below"
  done
}

# Poll `$@` once a second until it succeeds, for at most WAIT_S seconds.
wait_for() {
  for _ in $(seq 1 "$WAIT_S"); do
    still_running
    "$@" && return 0
    sleep 1
  done
  fail "nothing after ${WAIT_S} s"
}

sql() {
  psql -h "$PG_HOST" -U "$PG_USER" -d "$1" -tAc "$2"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

healthy() {
  "$VENV/bin/python" -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as answer:
    sys.exit(0 if answer.status == 200 else 1)' "$1" 2>/dev/null
}

has_rows() {
  [ "$(sql "$1" "$2")" -gt 0 ] 2>/dev/null
}

# A Redis database number nobody is using (the e2e tests pick one at random too).
empty_redis_db() {
  local number
  for number in $(shuf -i 1-15); do
    if [ "$(redis-cli -h "$REDIS_HOST" -n "$number" dbsize)" = "0" ]; then
      echo "$number"
      return 0
    fi
  done
  return 1
}

install() {
  STEP="pip install . (without development extras) into a clean virtual environment"
  mkdir -p "$WORK/src" "$WORK/logs"
  # The files of the checkout (committed or not, ignored ones left out), built outside it so
  # no build/ folder is left behind or reused.
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard \
    | tar -C "$ROOT" --null -T - --ignore-failed-read -cf - 2>/dev/null \
    | tar -C "$WORK/src" -xf -
  python3 -m venv "$VENV"
  timeout 300 "$VENV/bin/pip" install --quiet "$WORK/src" >"$WORK/pip.log" 2>&1 \
    || fail "pip install failed: $(grep -v 'is ignored' "$WORK/pip.log" | tail -n 5)"
}

# One full run: migrate a new database, start the three processes on `broker`, check them.
run_against() {
  local label=$1 broker=$2
  local database port url data
  database="hotline_smoke_$(date +%s)_$RANDOM"
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  data="$WORK/data-$label"

  STEP="$label: create and migrate a new PostgreSQL database"
  createdb -h "$PG_HOST" -U "$PG_USER" "$database" || fail "createdb $database failed"
  DATABASES+=("$database")
  export HOTLINE_DATABASE_URL="postgresql+psycopg://$PG_USER@$PG_HOST:5432/$database"
  export HOTLINE_BROKER_URL="$broker" HOTLINE_DATA_DIR="$data" HOTLINE_PUBLIC_URL="$url"
  timeout 120 "$VENV/bin/hotline" db upgrade >"$WORK/logs/$label-migrate.log" 2>&1 \
    || fail "hotline db upgrade failed"

  STEP="$label: start hotline web, worker and beat"
  start "$label-web" "$VENV/bin/hotline" web --port "$port" --processes 1 --threads 4
  start "$label-worker" "$VENV/bin/hotline" worker --concurrency 1
  start "$label-beat" "$VENV/bin/hotline" beat

  STEP="$label: GET $url/healthz answers 200"
  wait_for healthy "$url/healthz"

  STEP="$label: an emergency text to the local line opens a case (web)"
  timeout 60 "$VENV/bin/hotline" simulate sms --from +8613800000000 "家里煤气漏气" \
    >"$WORK/logs/$label-simulate.log" 2>&1 || fail "hotline simulate sms failed"

  STEP="$label: the on-duty alert is texted by the worker (web -> $label -> worker)"
  wait_for has_rows "$database" "SELECT count(*) FROM local_line_entries"

  STEP="$label: beat's dispatcher job runs on the worker (beat -> $label -> worker)"
  wait_for has_rows "$database" \
    "SELECT count(*) FROM job_locks WHERE name = 'tasks.followups.dispatch_follow_ups'"

  still_running
  stop_processes
  echo "  $label: web, worker and beat work (healthz, an alert sent by the worker, a beat job)"
}

cd "$WORK"  # never the checkout: Python would import the sources instead of what pip installed
unset PYTHONPATH TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN HOTLINE_TELEPHONY VOSK_MODEL_PATH
export HOTLINE_TELEPHONY=local HOTLINE_ON_DUTY_NUMBERS=+8613900000009

STEP="starting PostgreSQL, Redis and RabbitMQ"
"$ROOT/scripts/services.sh" || fail "the services did not start"

install
echo "  installed without development extras"

STEP="redis: choose an empty Redis database"
redis_db="$(empty_redis_db)" || fail "every Redis database 1-15 is in use"
REDIS_DBS+=("$redis_db")
run_against redis "redis://$REDIS_HOST:6379/$redis_db"

STEP="rabbitmq: add a virtual host of our own"
vhost="hotline-smoke-$RANDOM$RANDOM"
rabbitmqctl -q add_vhost "$vhost" >/dev/null || fail "rabbitmqctl add_vhost failed"
VHOSTS+=("$vhost")
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null \
  || fail "rabbitmqctl set_permissions failed"
run_against rabbitmq "$AMQP_BASE/$vhost"
