#!/usr/bin/env bash
# Fresh machine -> installed project (+ Debian's Chromium for the browser tests, Debian's
# PostgreSQL for the live scale tests) -> lint, type check and the whole test suite (model,
# browser and scale tests included).
set -euo pipefail
HERE="$(dirname "${BASH_SOURCE[0]}")"
# shellcheck disable=SC1091
source "$HERE/install.sh"
# shellcheck disable=SC1091
source "$HERE/install_browser.sh"
bash "$HERE/install_postgres.sh"
ruff check .
mypy
python -m pytest -q "$@"
