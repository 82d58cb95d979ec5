//! `qingwang serve`: flags and QINGWANG_* variables → a validated `ServiceConfig` → the service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use qingwang_model::bundle;
use qingwang_model::transcript::{RoomConfig, WindowConfig};
use qingwang_service::ServiceConfig;
use qingwang_service::live::LiveConfig;
use qingwang_service::live::webhook::WebhookConfig;

/// Arguments of `qingwang serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address.
    #[arg(long, env = "QINGWANG_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Model bundle directory.
    #[arg(long, env = "QINGWANG_MODEL", default_value_os_t = bundle::default_dir())]
    model: PathBuf,
    /// Dedicated model worker threads (default: all cores).
    #[arg(long, env = "QINGWANG_WORKERS")]
    workers: Option<usize>,
    /// Requests waiting for a worker before new ones get 429.
    #[arg(long, env = "QINGWANG_QUEUE_SIZE", default_value_t = 256)]
    queue_size: usize,
    /// Most items in one batch request.
    #[arg(long, env = "QINGWANG_MAX_BATCH", default_value_t = 256)]
    max_batch: usize,
    /// Most texts a worker merges into one pass.
    #[arg(long, env = "QINGWANG_MAX_BATCH_TEXTS", default_value_t = 64)]
    max_batch_texts: usize,
    /// Largest request body, bytes.
    #[arg(long, env = "QINGWANG_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Longest text, characters.
    #[arg(long, env = "QINGWANG_MAX_CHARS", default_value_t = qingwang_model::classifier::DEFAULT_MAX_TEXT_CHARS)]
    max_chars: usize,
    /// Per-request deadline, milliseconds (requests may ask for less).
    #[arg(long, env = "QINGWANG_TIMEOUT_MS", default_value_t = 10_000)]
    timeout_ms: u64,
    /// File holding the bearer token for /v1 and /admin routes; no file = no auth.
    #[arg(long, env = "QINGWANG_AUTH_TOKEN_FILE")]
    auth_token_file: Option<PathBuf>,
    /// Live rooms open at once.
    #[arg(long, env = "QINGWANG_MAX_ROOMS", default_value_t = LiveConfig::default().max_rooms)]
    max_rooms: usize,
    /// A live room with no segments for this many seconds is flushed and closed.
    #[arg(long, env = "QINGWANG_ROOM_IDLE_SECS", default_value_t = 300)]
    room_idle_secs: u64,
    /// Live-room window length, chars.
    #[arg(long, env = "QINGWANG_ROOM_WINDOW", default_value_t = WindowConfig::default().len)]
    room_window: usize,
    /// Chars between live-room window starts.
    #[arg(long, env = "QINGWANG_ROOM_STRIDE", default_value_t = WindowConfig::default().stride)]
    room_stride: usize,
    /// POST every live-room incident to this http:// URL (HMAC-signed, retried).
    #[arg(long, env = "QINGWANG_WEBHOOK_URL", requires = "webhook_secret_file")]
    webhook_url: Option<String>,
    /// File holding the webhook's HMAC secret.
    #[arg(long, env = "QINGWANG_WEBHOOK_SECRET_FILE")]
    webhook_secret_file: Option<PathBuf>,
}

impl ServeArgs {
    fn into_config(self) -> Result<ServiceConfig> {
        let auth_token = self
            .auth_token_file
            .as_deref()
            .map(ServiceConfig::read_token_file)
            .transpose()?;
        let defaults = LiveConfig::default();
        let webhook = match (&self.webhook_url, &self.webhook_secret_file) {
            (Some(url), Some(file)) => Some(WebhookConfig::new(
                url.clone(),
                ServiceConfig::read_token_file(file)?,
            )),
            _ => None,
        };
        let live = LiveConfig {
            max_rooms: self.max_rooms,
            idle_ttl: Duration::from_secs(self.room_idle_secs),
            room: RoomConfig {
                window: WindowConfig {
                    len: self.room_window,
                    stride: self.room_stride,
                },
                ..defaults.room
            },
            webhook,
            ..defaults
        };
        let config = ServiceConfig {
            addr: self.addr,
            model_dir: self.model,
            workers: self
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            queue_capacity: self.queue_size,
            max_batch_items: self.max_batch,
            max_batch_texts: self.max_batch_texts,
            max_body_bytes: self.max_body_bytes,
            max_text_chars: self.max_chars,
            request_timeout: Duration::from_millis(self.timeout_ms),
            auth_token,
            live,
        };
        Ok(config.validate()?)
    }
}

/// `qingwang serve`.
pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    let config = args.into_config()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("qingwang-http")
        .build()
        .context("starting the tokio runtime")?;
    rt.block_on(qingwang_service::run(config))
        .context("serving")?;
    Ok(ExitCode::SUCCESS)
}
