#!/usr/bin/env bash
# Render the evaluation report in headless Chromium and save a screenshot (not part of cargo
# test). Installs Debian's chromium when missing, runs `qingwang eval` on the committed test
# split with the default bundle, and writes eval-out/report.png.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-eval-out}
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update
  apt-get install -y --no-install-recommends chromium fonts-noto-cjk
fi
cargo run --bin qingwang -- eval --split test --out "$OUT"
PROFILE=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$PROFILE" \
  --hide-scrollbars --window-size=1280,2400 --screenshot="$PWD/$OUT/report.png" \
  "file://$PWD/$OUT/report.html"
rm -rf "$PROFILE"
echo "screenshot: $OUT/report.png"
