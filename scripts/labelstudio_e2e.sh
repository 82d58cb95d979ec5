#!/usr/bin/env bash
# End-to-end check of the Label Studio ML backend: a real Label Studio (pip package label-studio,
# in a throwaway venv unless LS_BIN points at one) against a running `qingwang serve`, both on
# 127.0.0.1. Creates a project with datasets/labelstudio/config.xml, imports tasks, connects
# http://127.0.0.1:QPORT/labelstudio as the project's model (Label Studio calls health and setup),
# asks Label Studio to retrieve predictions for every task (it calls predict) and checks that
# each task got qingwang's prediction with labels and UTF-16 evidence spans.
# Not part of `cargo test`; needs network access for pip the first time.
#
#   scripts/labelstudio_e2e.sh          # knobs: LS_BIN, QINGWANG_BIN, LS_PORT, Q_PORT, TOTAL_TIMEOUT
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL_TIMEOUT=${TOTAL_TIMEOUT:-900}
LS_PORT=${LS_PORT:-18080}
Q_PORT=${Q_PORT:-18090}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
QINGWANG_BIN=${QINGWANG_BIN:-$CARGO_TARGET_DIR/debug/qingwang}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
( sleep "$TOTAL_TIMEOUT"; echo "labelstudio_e2e: time limit reached" >&2; kill -TERM $$ ) & WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null || true; cleanup' EXIT

if [ -z "${LS_BIN:-}" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q label-studio >&2
  LS_BIN=$WORK/venv/bin/label-studio
fi
[ -x "$QINGWANG_BIN" ] || cargo build --locked -p qingwang >&2

wait_for() { # url, seconds
  for _ in $(seq 1 "$(( $2 * 4 ))"); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  echo "labelstudio_e2e: $1 did not come up" >&2
  return 1
}

# qingwang with a token; Label Studio connects with basic auth, the token as password.
echo "e2e-service-token" >"$WORK/qingwang.token"
"$QINGWANG_BIN" serve --addr "127.0.0.1:$Q_PORT" --auth-token-file "$WORK/qingwang.token" \
  >"$WORK/qingwang.log" 2>&1 & PIDS+=($!)
wait_for "http://127.0.0.1:$Q_PORT/ready" 60

TOKEN=0123456789abcdef0123456789abcdef01234567
export LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=false
export LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true
# Newer Label Studio versions make personal (JWT) tokens the default; the legacy token is simpler.
export LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true
# Label Studio refuses ML backends on loopback/private addresses unless told otherwise.
export ML_BLOCK_LOCAL_IP=false SSRF_PROTECTION_ENABLED=false
"$LS_BIN" start --no-browser --internal-host 127.0.0.1 --port "$LS_PORT" \
  --data-dir "$WORK/ls-data" --username admin@example.org --password qingwang-e2e \
  --user-token "$TOKEN" >"$WORK/ls.log" 2>&1 & PIDS+=($!)
wait_for "http://127.0.0.1:$LS_PORT/health" 240

LS=http://127.0.0.1:$LS_PORT
api() { # method, path, [json body]
  curl -fsS -X "$1" -H "Authorization: Token $TOKEN" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$LS$2"
}
CONFIG=$(python3 -c 'import json,sys; print(json.dumps(open("datasets/labelstudio/config.xml").read()))')
PROJECT=$(api POST /api/projects "{\"title\": \"qingwang e2e\", \"label_config\": $CONFIG}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
api POST "/api/projects/$PROJECT/import" '[
  {"text": "😀這款儀器能根治頸椎病！", "id": "e2e-1"},
  {"text": "家人们这个眼镜戴三个月直接摘镜 三二一上链接", "id": "e2e-2"},
  {"text": "今天包邮 明天发货", "id": "e2e-3"}]' >/dev/null
# Connecting the model makes Label Studio call /labelstudio/health and /labelstudio/setup.
api POST /api/ml "{\"url\": \"http://127.0.0.1:$Q_PORT/labelstudio\", \"project\": $PROJECT,
  \"title\": \"qingwang\", \"is_interactive\": false, \"auth_method\": \"BASIC_AUTH\",
  \"basic_auth_user\": \"analyst\", \"basic_auth_pass\": \"e2e-service-token\"}" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); assert m["readable_state"] == "Connected", m; print("connected, model_version", m["model_version"])' >&2
api POST "/api/dm/actions?id=retrieve_tasks_predictions&project=$PROJECT" \
  '{"selectedItems": {"all": true, "excluded": []}}' >/dev/null
api GET "/api/tasks?project=$PROJECT&fields=all&page_size=100" >"$WORK/tasks.json"
python3 - "$WORK/tasks.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
tasks = doc["tasks"] if isinstance(doc, dict) else doc
assert len(tasks) == 3, f"{len(tasks)} tasks"
by_id = {t["data"]["id"]: t for t in tasks}
for t in tasks:
    assert t.get("predictions"), f"task {t['data']['id']} has no prediction"
p = by_id["e2e-1"]["predictions"][0]
assert p["model_version"], p
spans = [r for r in p["result"] if r["from_name"] == "evidence"]
assert spans and spans[0]["value"]["start"] >= 1, p["result"]
# Label Studio offsets are UTF-16 units: the emoji before the claim counts two.
text = by_id["e2e-1"]["data"]["text"]
v = spans[0]["value"]
u16 = text.encode("utf-16-le")
assert u16[2 * v["start"]:2 * v["end"]].decode("utf-16-le") == v["text"], v
print("labelstudio_e2e: ok:", len(tasks), "tasks pre-annotated; span", v)
EOF
curl -fsS "http://127.0.0.1:$Q_PORT/metrics" | grep '^qingwang_http_requests_total{route="/labelstudio' >&2 || true
