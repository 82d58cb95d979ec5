#!/usr/bin/env bash
# Throughput and memory of classification on 2 cores, against the keyword baseline in the same
# run. Not part of the test suite. Usage: scripts/bench_classify.sh [N_TEXTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}; rounds=${2:-5}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release -q -p qingwang-model --example bench_classify
cargo build --release -q
echo "== in process: model vs keyword baseline (one kernel thread per classifying thread, as the qingwang binary runs)"
RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1} ./target/release/examples/bench_classify "$n" "$rounds"
echo "== end to end: qingwang classify (JSONL in, JSONL out), median of $rounds runs"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$n" > "$tmp/in.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open("datasets/data/handwritten.jsonl", encoding="utf-8")]
texts = [r["text"] for r in rows if r["split"] == "test"]
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": str(i), "text": texts[i % len(texts)]}, ensure_ascii=False))
PY
for i in $(seq "$rounds"); do
  /usr/bin/time -f "%e %M" -o "$tmp/t$i" ./target/release/qingwang classify -i "$tmp/in.jsonl" -o "$tmp/out.jsonl"
done
cat "$tmp"/t* | sort -n | awk -v n="$n" '{a[NR]=$1; m[NR]=$2} END {mid=int((NR+1)/2); printf "qingwang classify: %.0f texts/s (median of %d, start-up included), peak RSS %.0f MiB\n", n/a[mid], NR, m[mid]/1024}'
