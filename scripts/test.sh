#!/usr/bin/env bash
# The test command (README, .ci/run): lint, type-check, then the whole suite.
# Starts a throw-away Mosquitto when nothing listens on 127.0.0.1:1883.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

mosq_pid=""
cleanup() { [ -n "$mosq_pid" ] && kill "$mosq_pid" 2>/dev/null || true; }
trap cleanup EXIT
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  if command -v mosquitto >/dev/null 2>&1; then
    mosquitto -p 1883 >/tmp/hotline-test-mosquitto.log 2>&1 &
    mosq_pid=$!
    sleep 0.5
    echo "test.sh: started mosquitto (pid $mosq_pid) on 127.0.0.1:1883"
  else
    echo "test.sh: no MQTT broker on 127.0.0.1:1883 and no mosquitto binary" >&2
  fi
fi

# The wallboard test drives Debian's headless chromium; install it where we may (CI runs as root).
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test.sh: installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/hotline-apt.log 2>&1 \
    || echo "test.sh: chromium install failed (see /tmp/hotline-apt.log)" >&2
fi

# `hotline prompts build` speaks the IVR's prompts with Debian's espeak-ng; its test needs it.
if ! command -v espeak-ng >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test.sh: installing Debian's espeak-ng for the prompt build test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng) >/tmp/hotline-apt-espeak.log 2>&1 \
    || echo "test.sh: espeak-ng install failed (see /tmp/hotline-apt-espeak.log)" >&2
fi

echo "== ruff"; $BIN/ruff check acd ivr recordings tests bench
echo "== ruff format"; $BIN/ruff format --check acd ivr recordings tests bench
echo "== mypy"; $BIN/mypy
# Three workers: the suite mostly waits (real sockets, timers, child processes), so even on two
# cores it runs ~2.5x faster; each test has its own ports, files and scratch databases.
echo "== pytest"; $BIN/pytest -q -n "${HOTLINE_TEST_WORKERS:-3}" "$@"
