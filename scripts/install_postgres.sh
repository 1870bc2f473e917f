#!/usr/bin/env bash
# Installs Debian's PostgreSQL server for the live tests (pytest -m scale): they start their own
# throwaway cluster on a free loopback port with initdb/pg_ctl, so no cluster of the package is
# used. Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql
fi
ls -d /usr/lib/postgresql/*/bin
