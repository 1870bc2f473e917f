#!/usr/bin/env bash
# Base vs fine-tuned adapter on the frozen benchmark, plus the paper's Table 2 ablations of the
# adapter (profile without basic features / without history / without both), all in runtime
# mode (the live assistant graph, compact retrieval, constrained answers), against one embedded
# server so every run sees the same model process.
#
#   bash bench/adapter_eval.sh [LIMIT_PER_SPLIT] [OUT_DIR]
#
# LIMIT_PER_SPLIT (default 20) takes the first N samples of each split (trained users, untrained
# users, unseen scenarios). Runs resume: re-running skips finished samples. The model names are
# the server's: `smollm2-135m` (the bare base) and `ptool` (base + train/adapters/ptool-smollm2).
# Then: ptool train card train/adapters/ptool-smollm2 --run base=OUT/base --run adapter=OUT/adapter ...
set -euo pipefail
LIMIT="${1:-20}"
OUT="${2:-bench/out/adapter_eval}"
PORT="${PTOOL_EVAL_PORT:-8765}"
HISTORY_K="${PTOOL_EVAL_HISTORY_K:-12}"  # the runtime default (assistant.context.DEFAULT_HISTORY_K)
WS="${PTOOL_WORKSPACE:-data}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p "$OUT"

python -m train.serving --workspace "$WS" --port "$PORT" --adapter-dir train/adapters \
    --require-adapter >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
    kill -0 $SERVER 2>/dev/null || { tail -20 "$OUT/server.log"; exit 1; }
    sleep 1
done

run() {  # run NAME MODEL [extra ptool bench options]
    local name=$1 model=$2
    shift 2
    ptool bench --data eval/data/ptbench_synth --out "$OUT/$name" --mode runtime \
        --base-url "http://127.0.0.1:$PORT/v1" --model "$model" --limit "$LIMIT" \
        --history-k "$HISTORY_K" --tools-per-platform 3 --max-tokens 160 --no-plots "$@"
}

run base smollm2-135m
run adapter ptool
run adapter-no-basic ptool --ablate basic
run adapter-no-history ptool --ablate history
run adapter-no-both ptool --ablate both
ptool bench compare "$OUT/base" "$OUT/adapter"
