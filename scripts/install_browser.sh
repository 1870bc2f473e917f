#!/usr/bin/env bash
# Installs what the browser tests (pytest -m browser tests/ui) need: Debian's Chromium (never a
# browser downloaded by a test tool: `playwright install` cannot work on these machines), an emoji
# font so screenshots show the chat panels' icons, and Python's playwright client, which drives
# /usr/bin/chromium through executable_path. Idempotent; needs root (or sudo) for apt-get.
# Afterwards it exports UI_REQUIRE_BROWSER=1 so a missing browser fails the tests instead of
# skipping them -- source it (`source scripts/install_browser.sh`) to keep that in the shell.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "color emoji"; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
    chromium chromium-driver fonts-noto-color-emoji
fi
PYTHON="${ROOT}/.venv/bin/python"
[ -x "$PYTHON" ] || PYTHON="python3"
"$PYTHON" -m pip install -q "playwright>=1.45"
chromium --version
export UI_REQUIRE_BROWSER=1
