#!/usr/bin/env bash
# Load test of `qingwang serve` on loopback only, against `qingwang classify` as the baseline.
# Builds release, starts the server on 127.0.0.1 at a free port, drives it with wrk (installed
# from apt when missing), and prints texts/s and p50/p99 per concurrency for single-text and
# 32-text batch requests (medians of RUNS runs), with the ratio to `qingwang classify`.
# Bounded: every wrk run lasts DURATION seconds; the whole script has a hard timeout.
# Not part of `cargo test`.
#
#   scripts/loadtest.sh            # defaults: DURATION=8 CONCURRENCY="1 2 4 8 32" RUNS=3
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8}
CONCURRENCY=${CONCURRENCY:-"1 2 4 8 32"}
RUNS=${RUNS:-3}
TOTAL_TIMEOUT=${TOTAL_TIMEOUT:-1500}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
# PROFILE=dev measures the (dependencies at opt-level 3) dev build instead of release.
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then BIN=$CARGO_TARGET_DIR/release/qingwang; else BIN=$CARGO_TARGET_DIR/debug/qingwang; fi
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# Hard bound on the whole run.
( sleep "$TOTAL_TIMEOUT"; echo "loadtest: time limit reached" >&2; kill -TERM $$ ) & WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null || true; cleanup' EXIT

if ! command -v wrk >/dev/null; then
  echo "installing wrk from apt" >&2
  (apt-get update -qq && apt-get install -y -qq wrk) >&2
fi
if [ "$PROFILE" = release ]; then cargo build --release --locked -p qingwang >&2; else cargo build --locked -p qingwang >&2; fi
echo "profile: $PROFILE" >&2

# Texts: the hand-written data (real Chinese claims and hard negatives), first 2048 lines.
DATA=datasets/data/handwritten.jsonl
[ -f "$DATA" ] || DATA=$(ls datasets/data/*.jsonl | head -1)
python3 - "$DATA" "$WORK" <<'PY'
import json, sys
src, work = sys.argv[1], sys.argv[2]
texts = []
for line in open(src, encoding="utf-8"):
    line = line.strip()
    if line:
        texts.append(json.loads(line)["text"])
    if len(texts) >= 2048:
        break
with open(f"{work}/input.jsonl", "w", encoding="utf-8") as f:
    for i, t in enumerate(texts):
        f.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")
with open(f"{work}/single.json", "w", encoding="utf-8") as f:
    json.dump({"text": texts[0]}, f, ensure_ascii=False)
with open(f"{work}/batch.json", "w", encoding="utf-8") as f:
    json.dump({"items": [{"id": i, "text": t} for i, t in enumerate(texts[:32])]}, f, ensure_ascii=False)
# Mean chars, for the record.
print(f"texts: {len(texts)}, mean chars {sum(map(len, texts)) / len(texts):.1f}", file=sys.stderr)
PY
for kind in single batch; do
  cat > "$WORK/$kind.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/$kind.json", "rb"); wrk.body = f:read("*a"); f:close()
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %d\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration))
end
LUA
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# Baseline: qingwang classify over the same texts, RUNS times.
for _ in $(seq "$RUNS"); do
  s=$(date +%s.%N); "$BIN" classify --input "$WORK/input.jsonl" --output /dev/null; e=$(date +%s.%N)
  n=$(wc -l < "$WORK/input.jsonl")
  echo "$n $s $e" | awk '{printf "%.1f\n", $1 / ($3 - $2)}'
done > "$WORK/cli.txt"
CLI=$(median < "$WORK/cli.txt")
echo "qingwang classify: $CLI texts/s (median of $RUNS)" >&2

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
T0=$(date +%s.%N)
QINGWANG_LOG=warn "$BIN" serve --addr "127.0.0.1:$PORT" & SERVER_PID=$!
for _ in $(seq 500); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.02; done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null
T1=$(date +%s.%N)
echo "start-up: ready after $(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.2f", b - a}') s (launch to first 200 from /ready)" >&2

rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"; }

printf "\n%-7s %5s %10s %9s %9s %8s %8s %7s\n" kind conc texts/s p50_ms p99_ms non2xx sockerr vs_cli
for kind in single batch; do
  per=1; [ "$kind" = batch ] && per=32
  for c in $CONCURRENCY; do
    : > "$WORK/r.txt"
    for _ in $(seq "$RUNS"); do
      wrk -t 1 -c "$c" -d "${DURATION}s" --timeout 10s -s "$WORK/$kind.lua" "http://127.0.0.1:$PORT/v1/classify" \
        | awk '/^RESULT/ {print $2, $3, $4, $5, $6, $7}' >> "$WORK/r.txt"
    done
    tps=$(awk -v per=$per '{print $1 * per / ($6 / 1e6)}' "$WORK/r.txt" | median)
    p50=$(awk '{print $4}' "$WORK/r.txt" | median)
    p99=$(awk '{print $5}' "$WORK/r.txt" | median)
    bad=$(awk '{s += $2} END {print s}' "$WORK/r.txt")
    sock=$(awk '{s += $3} END {print s}' "$WORK/r.txt")
    ratio=$(awk -v a="$tps" -v b="$CLI" 'BEGIN {printf "%.2f", a / b}')
    printf "%-7s %5s %10.1f %9.2f %9.2f %8s %8s %7s\n" "$kind" "$c" "$tps" "$p50" "$p99" "$bad" "$sock" "$ratio"
  done
done
# Overload: far more concurrent single-text clients than the queue holds (QUEUE, default 256
# requests): the excess must be answered 429 quickly instead of waiting.
OVERLOAD=${OVERLOAD:-768}
if [ "$OVERLOAD" -gt 0 ]; then
  wrk -t 2 -c "$OVERLOAD" -d "${DURATION}s" --timeout 10s -s "$WORK/single.lua" "http://127.0.0.1:$PORT/v1/classify" \
    | awk '/^RESULT/ {print $2, $3, $4, $5, $6, $7}' > "$WORK/o.txt"
  read -r req non2xx sockerr p50 p99 dur < "$WORK/o.txt"
  echo
  echo "overload: $OVERLOAD connections for ${DURATION}s: $req responses, $non2xx non-2xx, $sockerr socket errors, p50 ${p50} ms, p99 ${p99} ms (all responses)"
fi
echo
echo "baseline qingwang classify: $CLI texts/s; server peak RSS: $(rss_mb) MB"
echo "status counts from /metrics:"
curl -fs "http://127.0.0.1:$PORT/metrics" | grep -E '^qingwang_http_requests_total\{route="/v1/classify"|^qingwang_http_request_failures_total' || true
