#!/usr/bin/env bash
# Fresh machine -> installed project -> workspace with the seeded personas -> the assistant
# on its embedded defaults (no endpoint configured: the local CPU model server starts itself).
set -euo pipefail
# shellcheck disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/install.sh"
ptool setup
ptool users
ptool history chloe92 --search "wine" -k 3
