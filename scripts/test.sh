#!/usr/bin/env bash
# Install newsner with the test tools, the Label Studio server and Dask, and Debian's chromium for the browser
# tests (never `playwright install`: browser downloads are blocked), then run the whole test suite.
# The tests start their own Label Studio on 127.0.0.1 (one per test worker). Extra arguments go to pytest;
# tests run on NEWSNER_TEST_WORKERS processes (default 2, one per core here; 0 runs them in this process).
. "$(dirname "$0")/_venv.sh" "dev,studio,dask"
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi
newsner validate
python -m pytest -n "${NEWSNER_TEST_WORKERS:-2}" "$@"
