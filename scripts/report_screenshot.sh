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
cargo run --release --locked --bin qingwang -- eval --split test --out "$OUT"
OUT=$(cd "$OUT" && pwd)
PROFILE=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$PROFILE" \
  --hide-scrollbars --window-size=1280,2400 --screenshot="$OUT/report.png" \
  "file://$OUT/report.html"
# The page as Chromium rendered it: every chart must be in the DOM as inline SVG, nothing fetched.
chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$PROFILE" \
  --dump-dom "file://$OUT/report.html" > "$OUT/report.dom.html" 2>/dev/null
rm -rf "$PROFILE"
python3 - "$OUT" <<'PY'
import os, re, struct, sys
out = sys.argv[1]
dom = open(f"{out}/report.dom.html", encoding="utf-8").read()
svgs = dom.count("<svg")
missing = [c for c in ("chart-pr", "chart-reliability", "chart-robustness", "chart-labels-model",
                       "chart-confusion-model") if f'id="{c}"' not in dom]
png = open(f"{out}/report.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", png[16:24])
print(f"rendered DOM: {svgs} inline SVG charts; screenshot {w}x{h}, {len(png)//1024} KiB")
if svgs < 5 or missing or len(png) < 50_000:
    sys.exit(f"report check failed: svgs={svgs} missing={missing} png={len(png)} bytes")
PY
echo "screenshot: $OUT/report.png"
