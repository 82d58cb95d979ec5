//! Incident webhooks: every incident a live room emits is POSTed as JSON to one configured URL,
//! at least once. A delivery is retried with exponential backoff until the receiver answers 2xx
//! or the attempts run out; it keeps its `X-Qingwang-Delivery` id across retries so receivers
//! can drop repeats. The body is signed: `X-Qingwang-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256 of "<t>.<body>" under the shared secret>`. Outcomes are counted in the
//! `webhook_deliveries` metric. Plain `http://` only (put a TLS proxy in front for https).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::Sha256;

use crate::config::Secret;
use crate::metrics::Metrics;

/// Where and how incidents are delivered.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// `http://host:port/path`.
    pub url: String,
    /// The HMAC key.
    pub secret: Secret,
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled after each failure, at most 60 s.
    pub initial_backoff: Duration,
    /// Per-attempt limit.
    pub timeout: Duration,
    /// Deliveries in progress (including those waiting to retry) beyond which new ones are
    /// dropped and counted as `dropped`.
    pub max_pending: usize,
}

impl WebhookConfig {
    /// Defaults for everything but the URL and secret.
    pub fn new(url: impl Into<String>, secret: Secret) -> Self {
        Self {
            url: url.into(),
            secret,
            max_attempts: 6,
            initial_backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(5),
            max_pending: 10_000,
        }
    }

    /// Check the URL and limits; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        let uri: hyper::Uri = self
            .url
            .parse()
            .map_err(|e| format!("webhook url {:?}: {e}", self.url))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!(
                "webhook url {:?}: must be http://host[:port]/path",
                self.url
            ));
        }
        if self.secret.expose().trim().is_empty() {
            return Err("webhook secret is empty".into());
        }
        if self.max_attempts == 0 || self.max_pending == 0 || self.timeout.is_zero() {
            return Err("webhook max_attempts, max_pending and timeout must be positive".into());
        }
        Ok(())
    }
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// The delivery side: a shared HTTP client and the pending count.
pub struct Webhook {
    cfg: WebhookConfig,
    client: Client<HttpConnector, Full<Bytes>>,
    pending: Arc<AtomicUsize>,
    next_id: AtomicU64,
}

impl Webhook {
    /// A deliverer for `cfg` (validated by the caller).
    pub fn new(cfg: WebhookConfig) -> Self {
        Self {
            cfg,
            client: Client::builder(TokioExecutor::new()).build_http(),
            pending: Arc::new(AtomicUsize::new(0)),
            next_id: AtomicU64::new(1),
        }
    }

    /// Deliveries in progress.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Queue one delivery of `body` (a JSON event) in the background. Call from the runtime.
    pub fn deliver(&self, event: &'static str, body: Vec<u8>, metrics: Arc<Metrics>) {
        if self.pending.fetch_add(1, Ordering::SeqCst) >= self.cfg.max_pending {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            Metrics::inc(&metrics.webhook_deliveries, "dropped");
            tracing::warn!("webhook: too many deliveries pending; one dropped");
            return;
        }
        let id = format!(
            "{:016x}-{}",
            rand::random::<u64>(),
            self.next_id.fetch_add(1, Ordering::SeqCst)
        );
        let cfg = self.cfg.clone();
        let client = self.client.clone();
        let pending = Arc::clone(&self.pending);
        let body = Bytes::from(body);
        tokio::spawn(async move {
            let mut backoff = cfg.initial_backoff;
            for attempt in 1..=cfg.max_attempts {
                match attempt_once(&cfg, &client, event, &id, body.clone()).await {
                    Ok(()) => {
                        Metrics::inc(&metrics.webhook_deliveries, "delivered");
                        pending.fetch_sub(1, Ordering::SeqCst);
                        return;
                    }
                    Err(why) => {
                        tracing::warn!(delivery = %id, attempt, %why, "webhook attempt failed");
                        if attempt < cfg.max_attempts {
                            Metrics::inc(&metrics.webhook_deliveries, "retried");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(60));
                        }
                    }
                }
            }
            Metrics::inc(&metrics.webhook_deliveries, "failed");
            tracing::error!(delivery = %id, attempts = cfg.max_attempts, "webhook delivery failed");
            pending.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

async fn attempt_once(
    cfg: &WebhookConfig,
    client: &Client<HttpConnector, Full<Bytes>>,
    event: &str,
    id: &str,
    body: Bytes,
) -> Result<(), String> {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let req = Request::post(cfg.url.as_str())
        .header("content-type", "application/json")
        .header("x-qingwang-event", event)
        .header("x-qingwang-delivery", id)
        .header(
            "x-qingwang-signature",
            signature(cfg.secret.expose(), t, &body),
        )
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    match tokio::time::timeout(cfg.timeout, client.request(req)).await {
        Err(_) => Err(format!("no answer within {:?}", cfg.timeout)),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(resp)) if resp.status().is_success() => Ok(()),
        Ok(Ok(resp)) => Err(format!("status {}", resp.status())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_hmac() {
        // The HMAC itself, against RFC 4231 test case 2.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap_or_else(|_| unreachable!());
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Our framing: the timestamp, a dot, the body.
        let s = signature("Jefe", 12, b"abc");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap_or_else(|_| unreachable!());
        mac.update(b"12.abc");
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(s, format!("t=12,v1={want}"));
        assert_ne!(signature("other", 12, b"abc"), s);
        assert_ne!(signature("Jefe", 13, b"abc"), s);
    }

    #[test]
    fn config_is_checked() {
        let ok = WebhookConfig::new("http://127.0.0.1:9000/hook", Secret::new("k"));
        assert!(ok.validate().is_ok());
        for url in ["https://x/hook", "ftp://x", "not a url", "/relative"] {
            let c = WebhookConfig::new(url, Secret::new("k"));
            assert!(c.validate().is_err_and(|e| e.contains("url")), "{url}");
        }
        let c = WebhookConfig::new("http://x/h", Secret::new(" "));
        assert!(c.validate().is_err_and(|e| e.contains("secret")));
    }
}
