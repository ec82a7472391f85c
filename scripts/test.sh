#!/usr/bin/env bash
# Install newsner with the test tools and the Label Studio server, then run the whole test suite.
# The tests start their own Label Studio on 127.0.0.1. Extra arguments go to pytest.
. "$(dirname "$0")/_venv.sh" "dev,studio"
newsner validate
python -m pytest "$@"
