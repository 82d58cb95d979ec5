//! Serving: bind, serve the router, reload on SIGHUP, and shut down gracefully on SIGTERM or
//! SIGINT (stop accepting, flush and close live rooms so event streams end, finish in-flight
//! requests, return). Live-room eviction runs in the background while serving.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::backend::{Loader, ModelLoader};
use crate::config::ServiceConfig;
use crate::error::ServiceError;
use crate::routes::router;
use crate::state::AppState;

/// Serve `state` on `listener` until `shutdown` resolves, then finish in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let s = state.clone();
    let shutdown = async move {
        shutdown.await;
        s.begin_shutdown();
        tracing::info!("shutting down: closing live rooms, finishing in-flight requests");
        crate::live::shutdown(&s).await;
    };
    crate::live::spawn_sweeper(state.clone());
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Reload the model on every SIGHUP, for the life of the process.
pub fn spawn_sighup_reload(state: AppState) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; reload with POST /admin/reload");
            return;
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the model");
            let _ = state.reload(None).await;
        }
    });
    #[cfg(not(unix))]
    let _ = state;
}

/// Load the bundle, start the workers, serve on `config.addr` until SIGTERM/SIGINT.
pub async fn run(config: ServiceConfig) -> Result<(), ServiceError> {
    let config = config.validate()?;
    tracing::info!(config = ?config, "effective configuration");
    let loader: Arc<dyn Loader> = Arc::new(ModelLoader {
        max_text_chars: config.max_text_chars,
    });
    let t = std::time::Instant::now();
    let state = tokio::task::spawn_blocking(move || AppState::load(config, loader))
        .await
        .map_err(|e| ServiceError::Io(std::io::Error::other(e)))??;
    let listener = TcpListener::bind(state.config.addr).await?;
    let version = state.model.load().backend.info().version.clone();
    tracing::info!(
        addr = %listener.local_addr()?,
        model = %version,
        workers = state.config.workers,
        startup_ms = t.elapsed().as_millis() as u64,
        "ready"
    );
    spawn_sighup_reload(state.clone());
    serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}
