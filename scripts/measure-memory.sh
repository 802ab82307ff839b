#!/usr/bin/env bash
# Peak RSS per generation of one model at several sizes and batches, one fresh process per point (ONNX Runtime's
# arena never shrinks). Output: one "peak-rss model size batch mode loadedBytes peakBytes seconds" line per point.
# Usage: scripts/measure-memory.sh [model folder] [sizes] [batches]
#   e.g. scripts/measure-memory.sh models/sdblazor-mini "128 256 384 512" "1 2"
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-models/sdblazor-mini}"
sizes="${2:-128 256 384 512}"
batches="${3:-1 2}"
dotnet build bench/SdBlazor.Bench -c Release -v q -nologo >/dev/null
bench="bench/SdBlazor.Bench/bin/Release/net10.0/SdBlazor.Bench"
for size in $sizes; do
  for batch in $batches; do
    "$bench" --model "$model" --peak-rss --size "$size" --batch "$batch" | grep '^peak-rss'
  done
  "$bench" --model "$model" --peak-rss --size "$size" --batch 1 --img2img | grep '^peak-rss'
done
