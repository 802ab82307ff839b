#!/usr/bin/env bash
# Runs every test of the solution except the slow ones (xUnit trait Category=Slow: full-size checkpoints, see
# docs/performance.md); with your own --filter, exactly what it selects. Installs what the tests need first:
# Debian's chromium for the browser tests (Playwright drives /usr/bin/chromium; no browser download).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

filter=(--filter "Category!=Slow")
for arg in "$@"; do [ "$arg" = "--filter" ] && filter=(); done
dotnet test SdBlazor.sln -c Release "${filter[@]}" "$@"
