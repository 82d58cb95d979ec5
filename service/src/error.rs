//! Errors of the service: [`ApiError`] is what a client sees (one JSON body, one status table);
//! [`BackendError`] is a classifier failure; [`ServiceError`] stops start-up.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A classifier backend failed (never caused by one request's input).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The model crate failed: loading a bundle or a forward pass.
    #[error(transparent)]
    Model(#[from] qingwang_model::ModelError),
    /// A backend thread panicked; the worker caught it and keeps serving.
    #[error("the backend panicked")]
    Panicked,
    /// The model returned fewer scores than texts it was given.
    #[error("the model returned fewer scores than texts")]
    Misaligned,
    /// The merged batch this request ran in failed (the worker logged the cause).
    #[error("the batch this request ran in failed")]
    BatchFailed,
    /// A test backend was told to fail.
    #[error("injected failure: {0}")]
    Injected(&'static str),
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The configuration is invalid; the message names the setting.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The auth token file could not be read.
    #[error("auth token file {path}: {source}")]
    TokenFile {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The model bundle could not be loaded.
    #[error("loading model bundle: {0}")]
    Load(#[source] BackendError),
    /// Binding or serving the socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// A worker thread could not be spawned.
    #[error("spawning a model worker thread: {0}")]
    Spawn(#[source] std::io::Error),
}

/// Everything a request can fail with. Each variant has one status and one stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON.
    #[error("body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is larger than the configured limit (bytes).
    #[error("body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A batch has more items than the configured limit.
    #[error("{len} items, more than the limit of {max}")]
    BatchTooLarge {
        /// Items sent.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field is missing, of the wrong type or out of range.
    #[error("{message}")]
    InvalidField {
        /// The field, as a JSON path (`items[3].text`, `options.labels`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// An admin reload failed; the old bundle keeps serving.
    #[error("reload failed, the previous bundle keeps serving: {0}")]
    ReloadFailed(String),
    /// The bearer token is missing or wrong.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// No route has this path.
    #[error("no such route")]
    NotFound,
    /// The route exists but not with this method.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// The model queue is full; retry after a second.
    #[error("the model queue is full; retry later")]
    QueueFull,
    /// The model is not loaded, the workers are gone, or the server is shutting down.
    #[error("the service is not ready")]
    NotReady,
    /// The request's deadline passed before the model got to it.
    #[error("the request deadline passed before the model finished")]
    Timeout,
    /// A backend failure. The body says nothing more; the log has the source.
    #[error("internal error")]
    Internal(#[source] BackendError),
    /// No open live room has this id.
    #[error("no open room {0:?}")]
    RoomNotFound(String),
    /// Opening one more live room would pass the configured limit.
    #[error("{max} rooms are open, the limit; close one or retry later")]
    RoomLimit {
        /// The limit.
        max: usize,
    },
    /// The room already holds as much text as it may; retry once held segments are released.
    #[error("room holds {buffered} chars, this request would pass the limit of {max}")]
    RoomBufferFull {
        /// Chars held now plus those sent.
        buffered: usize,
        /// The limit.
        max: usize,
    },
}

impl ApiError {
    /// An invalid field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The stable error code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::BatchTooLarge { .. } => "batch_too_large",
            Self::InvalidField { .. } => "invalid_field",
            Self::ReloadFailed(_) => "reload_failed",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::QueueFull => "queue_full",
            Self::NotReady => "not_ready",
            Self::Timeout => "timeout",
            Self::Internal(_) => "internal",
            Self::RoomNotFound(_) => "room_not_found",
            Self::RoomLimit { .. } => "room_limit",
            Self::RoomBufferFull { .. } => "room_buffer_full",
        }
    }

    /// The one table from error kind to HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge { .. } | Self::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InvalidField { .. } | Self::ReloadFailed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::QueueFull | Self::RoomLimit { .. } | Self::RoomBufferFull { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::RoomNotFound(_) => StatusCode::NOT_FOUND,
            Self::NotReady | Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn field_name(&self) -> Option<String> {
        match self {
            Self::InvalidField { field, .. } => Some(field.clone()),
            Self::BatchTooLarge { .. } => Some("items".into()),
            Self::ReloadFailed(_) => Some("model".into()),
            Self::RoomBufferFull { .. } => Some("segments".into()),
            _ => None,
        }
    }
}

/// The `error` object of every error body.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// Stable code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// The offending field, when one is to blame.
    pub field: Option<String>,
}

#[derive(Serialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

/// Marks a response as an error of this kind, for the metrics middleware.
#[derive(Debug, Clone, Copy)]
pub struct ErrorKind(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(source) = &self {
            tracing::error!(error = %source, "internal error");
        }
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code(),
                message: self.to_string(),
                field: self.field_name(),
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        match self {
            Self::QueueFull
            | Self::NotReady
            | Self::Timeout
            | Self::RoomLimit { .. }
            | Self::RoomBufferFull { .. } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::Unauthorized => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        resp.extensions_mut().insert(ErrorKind(self.code()));
        resp
    }
}
