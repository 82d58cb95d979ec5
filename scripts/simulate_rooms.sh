#!/usr/bin/env bash
# Live-room simulation against `qingwang serve` on loopback: for each room count in ROOMS, that
# many rooms push one 10-char segment every 10/4.5 s (real speaking speed, 4.5 chars/s) for
# DURATION seconds; texts are the hand-written livestream data. Prints, per room count, the
# segment rate achieved vs asked, push latency p50/p99, alert latency (push that completed an
# incident → its answer, when the incident also goes to SSE and the webhook) p50/p99, errors,
# the ratio of p99 to the 1-room baseline run first in the same script, and the server's RSS at
# the end of each run (repeat a room count, ROOMS="2000 2000 2000", to see memory stay flat).
# Also the server's peak RSS. The simulator shares the machine's cores with the server.
# Bounded by TOTAL_TIMEOUT. Not part of `cargo test`.
#
#   scripts/simulate_rooms.sh      # defaults: ROOMS="250 500 1000 2000 3000" DURATION=30
set -euo pipefail
cd "$(dirname "$0")/.."
ROOMS=${ROOMS:-"250 500 1000 2000 3000"}
DURATION=${DURATION:-30}
TOTAL_TIMEOUT=${TOTAL_TIMEOUT:-1500}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BIN=$CARGO_TARGET_DIR/release/qingwang
SIM=$CARGO_TARGET_DIR/release/examples/simulate_rooms
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; fi
  rm -rf "$WORK"
}
( sleep "$TOTAL_TIMEOUT"; echo "simulate_rooms: time limit reached" >&2; kill -TERM $$ ) & WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null || true; cleanup' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

cargo build --release --locked -p qingwang >&2
cargo build --release --locked -p qingwang-service --example simulate_rooms >&2
# Livestream texts (claims and hard negatives alike), as one long stream.
grep '"channel": *"livestream"' datasets/data/handwritten.jsonl > "$WORK/corpus.jsonl" || true
[ -s "$WORK/corpus.jsonl" ] || cp datasets/data/handwritten.jsonl "$WORK/corpus.jsonl"
echo "corpus: $(wc -l < "$WORK/corpus.jsonl") livestream texts" >&2

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Rooms of one run are evicted (idle 5 s) before the next starts.
QINGWANG_LOG=warn "$BIN" serve --addr "127.0.0.1:$PORT" --max-rooms 20000 --room-idle-secs 5 & SERVER_PID=$!
for _ in $(seq 500); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.02; done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null

run() { "$SIM" --addr "127.0.0.1:$PORT" --rooms "$1" --duration "$DURATION" --corpus "$WORK/corpus.jsonl" --prefix "r$1"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

BASE=$(run 1)
BASE_P99=$(field "$BASE" p99_ms)
echo "baseline, 1 room: $BASE" >&2
printf "\n%6s %10s %10s %8s %8s %9s %9s %9s %7s %8s %7s\n" rooms seg/s asked p50_ms p99_ms alert_p50 alert_p99 incidents errors p99/base rss_mb
for n in $ROOMS; do
  sleep 7  # the previous run's rooms are evicted
  R=$(run "$n")
  echo "$R" >> "$WORK/runs.jsonl"; echo "$R" >&2
  RSS=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status")
  python3 - "$R" "$BASE_P99" "$RSS" <<'PY'
import json, sys
r, base, rss = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print(f"{r['rooms']:6d} {r['segments_per_s']:10.1f} {r['segments_per_s_asked']:10.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
      f"{r['alert_p50_ms']:9.2f} {r['alert_p99_ms']:9.2f} {r['incidents']:9d} {r['errors']:7d} {r['p99_ms'] / max(base, 1e-9):8.1f} {rss:>7}")
PY
done
python3 - "$WORK/runs.jsonl" <<'PY'
import json, sys
ok = [r["rooms"] for r in map(json.loads, open(sys.argv[1]))
      if r["errors"] == 0 and r["alert_p99_ms"] <= 2000 and r["p99_ms"] <= 2000
      and r["segments_per_s"] >= 0.95 * r["segments_per_s_asked"]]
print(f"\nlargest room count with no errors, push and alert p99 <= 2 s and >= 95% of the asked rate: {max(ok) if ok else 'none'}")
PY
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status") MB"
curl -fs "http://127.0.0.1:$PORT/metrics" | grep -E '^qingwang_(alert_latency_seconds_(count|sum)|rooms_closed_total|room_segments_total)' || true
