//! qingwang's HTTP service: axum routes over a classifier [`Backend`], dedicated model worker
//! threads fed by a bounded queue, Prometheus metrics, hot reload and graceful shutdown.
//!
//! Depends on `qingwang-model` and `qingwang-datasets`; nothing depends on it. Model work never
//! runs on tokio threads: handlers queue a [`worker::Job`] and await its oneshot.
//! Routes live in [`routes`], one module per group, assembled by [`routes::router`]; live rooms
//! (transcript segments pushed as they arrive, SSE, webhooks) in [`live`].

pub mod backend;
pub mod config;
pub mod error;
pub mod fake;
pub mod live;
pub mod metrics;
pub mod request;
pub mod routes;
pub mod server;
pub mod state;
pub mod worker;

pub use backend::{Backend, Loader, ModelBackend, ModelLoader};
pub use config::{Secret, ServiceConfig};
pub use error::{ApiError, BackendError, ServiceError};
pub use routes::router;
pub use server::{run, serve};
pub use state::AppState;
