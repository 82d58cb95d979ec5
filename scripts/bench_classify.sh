#!/usr/bin/env bash
# Throughput and memory of classification on 2 cores, against the keyword baseline in the same
# run. Not part of the test suite. Usage: scripts/bench_classify.sh [N_TEXTS] [ROUNDS] [MIN_CHARS]
# (MIN_CHARS, default 100: consecutive test texts are joined until each is at least that long, then cut to
# it; 0 = the test texts as they are).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}; rounds=${2:-5}; min_chars=${3:-100}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release -q -p qingwang-model --example bench_classify
cargo build --release -q
echo "== in process: model vs keyword baseline (one kernel thread per classifying thread, as the qingwang binary runs)"
RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1} ./target/release/examples/bench_classify "$n" "$rounds" "$min_chars"
echo "== end to end: qingwang classify (JSONL in, JSONL out), median of $rounds runs"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$n" "$min_chars" > "$tmp/in.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open("datasets/data/handwritten.jsonl", encoding="utf-8")]
# The same texts as the in-process run: consecutive test texts joined until >= min_chars, cut to it.
texts, cur, m = [], "", int(sys.argv[2])
for r in rows:
    if r["split"] != "test":
        continue
    cur = cur + " " + r["text"] if cur else r["text"]
    if len(cur) >= m:
        texts.append(cur[:m] if m > 0 else cur)
        cur = ""
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": str(i), "text": texts[i % len(texts)]}, ensure_ascii=False))
PY
for i in $(seq "$rounds"); do
  /usr/bin/time -f "%e %M" -o "$tmp/t$i" ./target/release/qingwang classify -i "$tmp/in.jsonl" -o "$tmp/out.jsonl"
done
cat "$tmp"/t* | sort -n | awk -v n="$n" '{a[NR]=$1; m[NR]=$2} END {mid=int((NR+1)/2); printf "qingwang classify: %.0f texts/s (median of %d, start-up included), peak RSS %.0f MiB\n", n/a[mid], NR, m[mid]/1024}'
