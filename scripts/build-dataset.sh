#!/usr/bin/env bash
# Main job: install newsner, then build the dataset offline from corpus/ and annotation/ into dist/.
# Extra arguments go to `newsner run` (e.g. --with-studio).
. "$(dirname "$0")/_venv.sh" "dev"
newsner run "$@"
