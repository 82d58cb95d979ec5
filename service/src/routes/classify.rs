//! POST /v1/classify: one text or a batch, answered by the model workers.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use qingwang_model::classifier::check_text;
use qingwang_model::{ClassifyOptions, InputError, Prediction};
use serde::Serialize;

use crate::error::{ApiError, ErrorBody};
use crate::metrics::Metrics;
use crate::request::{self, ParseLimits};
use crate::state::{AppState, await_job};

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/classify", post(classify))
}

/// Map a body extraction failure: too large → 413, anything else → 400.
pub(crate) fn body_bytes(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge { limit }
        } else {
            ApiError::MalformedJson(e.body_text())
        }
    })
}

#[derive(Serialize)]
#[serde(untagged)]
enum OutItem<'a> {
    Ok {
        id: &'a serde_json::Value,
        #[serde(flatten)]
        prediction: Prediction,
    },
    Err {
        id: &'a serde_json::Value,
        error: ErrorBody,
    },
}

#[derive(Serialize, Default)]
struct Timings {
    queue_us: u64,
    tokenize_us: u64,
    inference_us: u64,
    postprocess_us: u64,
    total_us: u64,
    batch_texts: usize,
}

#[derive(Serialize)]
struct ClassifyResponse<'a> {
    model: String,
    results: Vec<OutItem<'a>>,
    timings: Timings,
}

fn input_error(e: &InputError, field: String) -> ErrorBody {
    ErrorBody {
        code: match e {
            InputError::TooLong { .. } => "text_too_long",
            InputError::EmptyText => "invalid_field",
        },
        message: e.to_string(),
        field: Some(field),
    }
}

fn check_options(state: &AppState, opts: &ClassifyOptions) -> Result<(), ApiError> {
    let loaded = state.model.load();
    let b = &loaded.backend;
    if opts.labels.is_some() {
        let only = ClassifyOptions {
            labels: opts.labels.clone(),
            ..ClassifyOptions::default()
        };
        b.check_options(&only)
            .map_err(|m| ApiError::field("options.labels", m))?;
    }
    for (k, v) in &opts.thresholds {
        let only = ClassifyOptions {
            thresholds: [(k.clone(), *v)].into_iter().collect(),
            ..ClassifyOptions::default()
        };
        b.check_options(&only)
            .map_err(|m| ApiError::field(format!("options.thresholds.{k}"), m))?;
    }
    Ok(())
}

async fn classify(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let start = Instant::now();
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let req = request::parse(
        &body,
        &ParseLimits {
            max_items: state.config.max_batch_items,
            channels: &state.channels,
        },
    )?;
    check_options(&state, &req.options)?;
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    let max_chars = state.config.max_text_chars;
    let field = |i: usize| {
        if req.batch {
            format!("items[{i}].text")
        } else {
            "text".to_string()
        }
    };
    // Texts that fail the input checks never reach the queue.
    let checks: Vec<Result<(), InputError>> = req
        .items
        .iter()
        .map(|it| check_text(&it.text, max_chars))
        .collect();
    if !req.batch {
        if let Some(Err(e)) = checks.first() {
            return Err(ApiError::field("text", e.to_string()));
        }
    }
    let texts: Vec<String> = req
        .items
        .iter()
        .zip(&checks)
        .filter(|(_, c)| c.is_ok())
        .map(|(it, _)| it.text.clone())
        .collect();
    let timeout = req
        .timeout_ms
        .map_or(state.config.request_timeout, Duration::from_millis)
        .min(state.config.request_timeout);
    let deadline = start + timeout;
    let mut timings = Timings::default();
    let mut model = state.model.load().backend.info().version.clone();
    let mut predictions = Vec::new().into_iter();
    if !texts.is_empty() {
        let rx = state.submit_texts(texts, req.options.clone(), deadline)?;
        let out = await_job(rx, deadline).await?;
        timings.queue_us = out.queue_us;
        timings.tokenize_us = out.timings.tokenize_us;
        timings.inference_us = out.timings.inference_us;
        timings.postprocess_us = out.timings.postprocess_us;
        timings.batch_texts = out.batch_texts;
        model = out.model;
        predictions = out.results.into_iter();
    }
    let mut results = Vec::with_capacity(req.items.len());
    for (i, (it, c)) in req.items.iter().zip(checks).enumerate() {
        let r = match c {
            Err(e) => Err(e),
            Ok(()) => predictions.next().unwrap_or(Err(InputError::EmptyText)),
        };
        results.push(match r {
            Ok(p) => {
                Metrics::inc(&state.metrics.verdicts, verdict_name(&p));
                for l in &p.labels {
                    Metrics::inc(&state.metrics.labels_flagged, &l.id);
                }
                OutItem::Ok {
                    id: &it.id,
                    prediction: p,
                }
            }
            Err(e) => OutItem::Err {
                id: &it.id,
                error: input_error(&e, field(i)),
            },
        });
    }
    timings.total_us = start.elapsed().as_micros() as u64;
    let resp = ClassifyResponse {
        model,
        results,
        timings,
    };
    Ok(axum::Json(serde_json::to_value(resp).unwrap_or_default()))
}

fn verdict_name(p: &Prediction) -> &'static str {
    match p.verdict {
        qingwang_model::Verdict::Pass => "pass",
        qingwang_model::Verdict::Review => "review",
        qingwang_model::Verdict::Block => "block",
    }
}
