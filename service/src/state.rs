//! [`AppState`]: what every route shares — config, the current model, the worker pool, metrics,
//! the loader used for reloads. Cheap to clone (one `Arc`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use arc_swap::ArcSwap;

use crate::backend::{Backend, Loader};
use crate::config::ServiceConfig;
use crate::error::{ApiError, ServiceError};
use crate::metrics::Metrics;
use crate::worker::{Job, JobOutput, JobReply, Loaded, ModelSlot, Pool, SubmitError};

/// Shared state of all routes.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    /// Validated configuration.
    pub config: ServiceConfig,
    /// The backend serving now.
    pub model: ModelSlot,
    /// The worker pool.
    pub pool: Pool,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Channel names of the builtin taxonomy (parsed once).
    pub channels: Vec<String>,
    /// Live rooms.
    pub rooms: crate::live::Rooms,
    loader: Arc<dyn Loader>,
    model_dir: Mutex<PathBuf>,
    reload_lock: tokio::sync::Mutex<()>,
    shutting_down: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Wait for a queued job until `deadline` (then 503 `timeout`). Dropping the future (a client
/// gone) drops the receiver, which tells the worker to skip the job.
pub async fn await_job(rx: JobReply, deadline: std::time::Instant) -> Result<JobOutput, ApiError> {
    match tokio::time::timeout_at(deadline.into(), rx).await {
        Err(_) | Ok(Err(_)) => Err(ApiError::Timeout),
        Ok(Ok(Err(e))) => Err(ApiError::Internal(e)),
        Ok(Ok(Ok(o))) => Ok(o),
    }
}

/// Result of a successful reload.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reloaded {
    /// Version now serving.
    pub version: String,
    /// Version before.
    pub previous: String,
}

impl AppState {
    /// Start workers over an already loaded backend.
    pub fn new(
        config: ServiceConfig,
        backend: Box<dyn Backend>,
        loader: Arc<dyn Loader>,
    ) -> Result<Self, ServiceError> {
        let metrics = Arc::new(Metrics::default());
        let model: ModelSlot = Arc::new(ArcSwap::from_pointee(Loaded { backend }));
        let pool = Pool::start(
            config.workers,
            config.queue_capacity,
            config.max_batch_texts,
            Arc::clone(&model),
            Arc::clone(&metrics),
        )?;
        Ok(Self(Arc::new(Inner {
            model_dir: Mutex::new(config.model_dir.clone()),
            rooms: crate::live::Rooms::new(config.live.clone()),
            config,
            model,
            pool,
            metrics,
            channels: qingwang_datasets::Taxonomy::builtin().channels,
            loader,
            reload_lock: tokio::sync::Mutex::new(()),
            shutting_down: AtomicBool::new(false),
        })))
    }

    /// Load the bundle with `loader` and start.
    pub fn load(config: ServiceConfig, loader: Arc<dyn Loader>) -> Result<Self, ServiceError> {
        let backend = loader.load(&config.model_dir).map_err(ServiceError::Load)?;
        Self::new(config, backend, loader)
    }

    /// Queue texts on the model workers without waiting; the job is dropped after `deadline`.
    /// A full queue is 429 `queue_full`, gone workers 503 `not_ready`.
    pub fn submit_texts(
        &self,
        texts: Vec<String>,
        options: qingwang_model::ClassifyOptions,
        deadline: std::time::Instant,
    ) -> Result<JobReply, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Job {
            texts,
            options,
            deadline,
            enqueued: std::time::Instant::now(),
            reply: tx,
        };
        self.pool.submit(job, &self.metrics).map_err(|e| match e {
            SubmitError::Full => ApiError::QueueFull,
            SubmitError::Closed => ApiError::NotReady,
        })?;
        Ok(rx)
    }

    /// Model loaded, workers alive, not shutting down.
    pub fn is_ready(&self) -> bool {
        !self.shutting_down.load(Ordering::SeqCst) && self.pool.all_alive()
    }

    /// Mark the service as shutting down (/ready turns 503, new work is refused).
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// The bundle directory serving now.
    pub fn model_dir(&self) -> PathBuf {
        self.model_dir
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Load a bundle (`dir`, or the current one again) beside the serving one and swap it in.
    /// On failure the old one keeps serving. One reload at a time.
    pub async fn reload(&self, dir: Option<&Path>) -> Result<Reloaded, ApiError> {
        let _one = self.reload_lock.lock().await;
        let dir = dir.map_or_else(|| self.model_dir(), Path::to_path_buf);
        let loader = Arc::clone(&self.loader);
        let d = dir.clone();
        let loaded = tokio::task::spawn_blocking(move || loader.load(&d)).await;
        let backend = match loaded {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                Metrics::inc(&self.metrics.reloads, "failed");
                tracing::error!(dir = %dir.display(), error = %e, "reload failed; the previous bundle keeps serving");
                return Err(ApiError::ReloadFailed(e.to_string()));
            }
            Err(_) => {
                Metrics::inc(&self.metrics.reloads, "failed");
                return Err(ApiError::ReloadFailed("the loader panicked".into()));
            }
        };
        let version = backend.info().version.clone();
        let old = self.model.swap(Arc::new(Loaded { backend }));
        *self
            .model_dir
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = dir.clone();
        Metrics::inc(&self.metrics.reloads, "ok");
        let previous = old.backend.info().version.clone();
        tracing::info!(dir = %dir.display(), %version, %previous, "model reloaded");
        Ok(Reloaded { version, previous })
    }
}
