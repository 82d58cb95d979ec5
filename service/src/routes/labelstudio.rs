//! The Label Studio ML backend protocol under `/labelstudio`, so a Label Studio project can use
//! qingwang for pre-annotations (Settings → Model → Connect model, URL
//! `http://host:port/labelstudio`).
//!
//! - `GET /labelstudio/health` → `{"status": "UP", "model_class": "qingwang", "model_version"}`.
//! - `POST /labelstudio/setup` (`{project, schema, hostname, access_token, model_version, ...}`)
//!   → `{"model_version"}`; a `schema` (the project's labelling config) without the controls
//!   qingwang writes (`text`, `labels`, `evidence`) is refused, naming them.
//! - `POST /labelstudio/predict` (`{"tasks": [{"id", "data": {"text"}}], "label_config"?,
//!   "project"?, "params"?}`) → `{"results": [{"result", "score", "model_version"}],
//!   "model_version"}`, one per task in order, classified by the same worker pool as
//!   `/v1/classify`. Result items are those of `data export --format labelstudio` (span offsets
//!   in UTF-16 code units). The text is `data.text`, or the `$key` of the config's `<Text>` tag.
//! - `POST /labelstudio/webhook` (`{"action", ...}`) → `{"status": "ok"}`: events are counted
//!   in the `labelstudio_webhook_events` metric by action; qingwang does not train online.
//!
//! Label Studio can send HTTP basic auth: with a service token set, the password must be the
//! token (any user name); a bearer token works too. `health` is open, like `/health`.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use qingwang_datasets::Span;
use qingwang_datasets::interchange::labelstudio::result_items;
use qingwang_model::classifier::check_text;
use qingwang_model::{ClassifyOptions, Prediction};
use serde_json::{Value, json};

use super::classify::body_bytes;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::{AppState, await_job};

/// The name Label Studio shows for this backend.
pub const MODEL_CLASS: &str = "qingwang";

/// Controls a project's labelling config must have for qingwang's predictions to show.
pub const CONTROLS: [&str; 3] = ["text", "labels", "evidence"];

/// Routes that need the service token (when one is set).
pub fn protected(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/labelstudio/setup", post(setup))
        .route("/labelstudio/predict", post(predict))
        .route("/labelstudio/webhook", post(webhook))
        .route_layer(middleware::from_fn_with_state(state, auth))
}

/// Routes open to all.
pub fn open() -> Router<AppState> {
    Router::new().route("/labelstudio/health", get(health))
}

/// Standard base64, padding optional (clients differ).
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The token a request carries: a bearer token, or the password of basic auth.
fn given_token(authorization: &str) -> Option<String> {
    if let Some(t) = super::bearer(authorization) {
        return Some(t);
    }
    let b64 = authorization.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(BASE64.decode(b64.trim()).ok()?).ok()?;
    decoded.split_once(':').map(|(_, pass)| pass.to_string())
}

async fn auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !super::authorized(&state, req.headers(), given_token) {
        return ApiError::Unauthorized.into_response();
    }
    next.run(req).await
}

fn version(state: &AppState) -> String {
    state.model.load().backend.info().version.clone()
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(json!({
        "status": "UP",
        "model_class": MODEL_CLASS,
        "model_version": version(&state),
    }))
}

fn parse_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::field("-", "the body must be a JSON object")),
        Err(e) => Err(ApiError::MalformedJson(e.to_string())),
    }
}

/// Controls of [`CONTROLS`] that a labelling config lacks.
pub fn missing_controls(config: &str) -> Vec<&'static str> {
    CONTROLS
        .iter()
        .filter(|c| {
            !config.contains(&format!("name=\"{c}\"")) && !config.contains(&format!("name='{c}'"))
        })
        .copied()
        .collect()
}

/// The task data key the config's `<Text>` tag shows (`value="$key"`), else `text`.
pub fn text_key(config: Option<&str>) -> String {
    let key = config.and_then(|c| {
        let tag = &c[c.find("<Text ")?..];
        let tag = &tag[..tag.find('>')?];
        let v = &tag[tag.find("value=")? + 6..];
        let quote = v.chars().next()?;
        let v = v.get(1..)?.strip_prefix('$')?;
        let end = v.find(quote)?;
        Some(v[..end].to_string())
    });
    key.filter(|k| !k.is_empty())
        .unwrap_or_else(|| "text".to_string())
}

async fn setup(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let req = parse_object(&body)?;
    match req.get("schema") {
        None | Some(Value::Null) => {}
        Some(Value::String(schema)) => {
            let missing = missing_controls(schema);
            if !missing.is_empty() {
                return Err(ApiError::field(
                    "schema",
                    format!(
                        "the labelling config lacks the controls {} that qingwang's predictions \
                         use; start from datasets/labelstudio/config.xml",
                        missing.join(", ")
                    ),
                ));
            }
        }
        Some(_) => return Err(ApiError::field("schema", "must be a string")),
    }
    tracing::info!(
        project = req
            .get("project")
            .map(|p| p.to_string())
            .unwrap_or_default(),
        "label studio setup"
    );
    Ok(axum::Json(json!({ "model_version": version(&state) })))
}

/// One task's prediction in Label Studio's shape.
fn ls_prediction(text: &str, p: &Prediction) -> Value {
    let labels: Vec<String> = p.labels.iter().map(|l| l.id.clone()).collect();
    let spans: Vec<Span> = p
        .spans
        .iter()
        .map(|s| Span {
            label: s.label.clone(),
            char_start: s.char_start,
            char_end: s.char_end,
            text: s.text.clone(),
        })
        .collect();
    json!({
        "result": result_items(text, &labels, p.product.as_ref().map(|x| x.id.as_str()), &spans),
        "score": p.score,
        "model_version": p.model,
    })
}

/// Classify texts through the worker pool, `max_batch_items` per job, under one deadline.
async fn classify(
    state: &AppState,
    texts: Vec<String>,
) -> Result<Vec<Option<Prediction>>, ApiError> {
    let mut out = Vec::with_capacity(texts.len());
    // One deadline for the whole request, however many jobs it takes.
    let deadline = Instant::now() + state.config.request_timeout;
    for chunk in texts.chunks(state.config.max_batch_items.max(1)) {
        let rx = state.submit_texts(chunk.to_vec(), ClassifyOptions::default(), deadline)?;
        let res = await_job(rx, deadline).await?;
        let mut got = res.results.into_iter();
        for _ in chunk {
            out.push(got.next().and_then(Result::ok));
        }
    }
    Ok(out)
}

async fn predict(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let req = parse_object(&body)?;
    let config = match req.get("label_config") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(ApiError::field("label_config", "must be a string")),
    };
    let key = text_key(config);
    let tasks = req
        .get("tasks")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::field("tasks", "missing or not an array"))?;
    let mut texts = Vec::with_capacity(tasks.len());
    for (i, t) in tasks.iter().enumerate() {
        let text = t
            .get("data")
            .and_then(|d| d.get(&key))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::field(
                    format!("tasks[{i}].data.{key}"),
                    "missing or not a string: the task has no text to classify",
                )
            })?;
        texts.push(text.to_string());
    }
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    // Blank and over-long texts are answered with an empty prediction, not sent to the model.
    let max = state.config.max_text_chars;
    let valid: Vec<String> = texts
        .iter()
        .filter(|t| check_text(t, max).is_ok())
        .cloned()
        .collect();
    let mut predicted = classify(&state, valid).await?.into_iter();
    let model_version = version(&state);
    let mut results = Vec::with_capacity(texts.len());
    for text in &texts {
        let p = if check_text(text, max).is_ok() {
            predicted.next().flatten()
        } else {
            None
        };
        results.push(match p {
            Some(p) => {
                for l in &p.labels {
                    Metrics::inc(&state.metrics.labels_flagged, &l.id);
                }
                ls_prediction(text, &p)
            }
            None => json!({"result": [], "score": 0.0, "model_version": model_version}),
        });
    }
    Ok(axum::Json(
        json!({ "results": results, "model_version": model_version }),
    ))
}

async fn webhook(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let req = parse_object(&body)?;
    let action = req
        .get("action")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::field("action", "missing or not a string"))?;
    // Bounded label values: unknown actions share one series.
    let known = action.len() <= 64
        && action
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit());
    Metrics::inc(
        &state.metrics.labelstudio_webhooks,
        if known { action } else { "OTHER" },
    );
    tracing::info!(action, "label studio webhook");
    Ok(axum::Json(json!({ "status": "ok" })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_and_bearer_tokens_are_read() {
        assert_eq!(given_token("Bearer s3cret ").as_deref(), Some("s3cret"));
        // "analyst:s3cret"
        assert_eq!(
            given_token("Basic YW5hbHlzdDpzM2NyZXQ=").as_deref(),
            Some("s3cret")
        );
        // ":tok" without padding
        assert_eq!(given_token("Basic OnRvaw").as_deref(), Some("tok"));
        assert_eq!(given_token("Basic !!!!"), None);
        assert_eq!(given_token("Basic YQ"), None, "no colon");
        assert_eq!(given_token("Token x"), None);
        assert_eq!(given_token("Basic A"), None, "not base64");
    }

    #[test]
    fn config_checks_and_text_key() {
        let ours = "<View><Text name=\"text\" value=\"$text\"/><Labels name=\"evidence\" toName=\"text\"/><Choices name=\"labels\"/></View>";
        assert!(missing_controls(ours).is_empty());
        assert_eq!(
            missing_controls("<View><Text name='text' value='$t'/></View>"),
            ["labels", "evidence"]
        );
        assert_eq!(text_key(Some(ours)), "text");
        assert_eq!(
            text_key(Some("<View><Text name='text' value='$transcript'/></View>")),
            "transcript"
        );
        assert_eq!(text_key(Some("<View><Text name=\"x\"/></View>")), "text");
        assert_eq!(text_key(Some("<Text value=\"$")), "text");
        assert_eq!(text_key(None), "text");
    }
}
