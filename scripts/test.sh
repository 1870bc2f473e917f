#!/usr/bin/env bash
# Fresh machine -> installed project -> lint, type check and the whole test suite.
set -euo pipefail
# shellcheck disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/install.sh"
ruff check .
mypy
python -m pytest -q "$@"
