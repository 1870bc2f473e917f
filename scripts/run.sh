#!/usr/bin/env bash
# Fresh machine -> installed project -> workspace with the seeded personas -> the assistant on
# its embedded defaults: one request from the command line, then the web app on
# http://127.0.0.1:7860 (Ctrl-C stops it). No endpoint configured = the local CPU model server
# starts by itself and stops on exit.
set -euo pipefail
# shellcheck disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/install.sh"
ptool setup
ptool history chloe92 --search "wine" -k 3
ptool chat --user chloe92 "order me a bottle of red wine"
exec ptool ui
