//! [`ServiceConfig`]: the one validated configuration the service runs with. The binary turns
//! its command-line flags into this before anything starts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::ServiceError;

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself (compare it, never log it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Everything the service needs to run.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Listen address.
    pub addr: SocketAddr,
    /// Model bundle directory.
    pub model_dir: PathBuf,
    /// Dedicated model worker threads.
    pub workers: usize,
    /// Requests waiting for a worker before new ones get 429.
    pub queue_capacity: usize,
    /// Most items in one batch request.
    pub max_batch_items: usize,
    /// Most texts a worker classifies in one pass (requests queued together are merged up to this).
    pub max_batch_texts: usize,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Longest text, chars.
    pub max_text_chars: usize,
    /// Default and largest per-request deadline.
    pub request_timeout: Duration,
    /// Bearer token for /v1 and /admin routes; `None` = no auth.
    pub auth_token: Option<Secret>,
    /// Live rooms: limits, windows, webhook.
    pub live: crate::live::LiveConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            model_dir: qingwang_model::bundle::default_dir(),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            queue_capacity: 256,
            max_batch_items: 256,
            max_batch_texts: 64,
            max_body_bytes: 8 * 1024 * 1024,
            max_text_chars: qingwang_model::classifier::DEFAULT_MAX_TEXT_CHARS,
            request_timeout: Duration::from_secs(10),
            auth_token: None,
            live: crate::live::LiveConfig::default(),
        }
    }
}

impl ServiceConfig {
    /// Check every limit; the error names the setting.
    pub fn validate(self) -> Result<Self, ServiceError> {
        let positive = [
            ("workers", self.workers),
            ("queue_capacity", self.queue_capacity),
            ("max_batch_items", self.max_batch_items),
            ("max_batch_texts", self.max_batch_texts),
            ("max_body_bytes", self.max_body_bytes),
            ("max_text_chars", self.max_text_chars),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ServiceError::Config(format!("{name} must be at least 1")));
        }
        if self.workers > 256 {
            return Err(ServiceError::Config("workers must be at most 256".into()));
        }
        if self.request_timeout.is_zero() {
            return Err(ServiceError::Config(
                "request_timeout must be positive".into(),
            ));
        }
        if self
            .auth_token
            .as_ref()
            .is_some_and(|t| t.expose().trim().is_empty())
        {
            return Err(ServiceError::Config("auth token is empty".into()));
        }
        self.live
            .validate()
            .map_err(|e| ServiceError::Config(format!("live rooms: {e}")))?;
        Ok(self)
    }

    /// Read a bearer token from a file (surrounding whitespace trimmed).
    pub fn read_token_file(path: &std::path::Path) -> Result<Secret, ServiceError> {
        let s = std::fs::read_to_string(path).map_err(|source| ServiceError::TokenFile {
            path: path.to_path_buf(),
            source,
        })?;
        let t = s.trim();
        if t.is_empty() {
            return Err(ServiceError::Config(format!(
                "auth token file {} is empty",
                path.display()
            )));
        }
        Ok(Secret::new(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_the_bad_setting() {
        type Case<'a> = (fn(&mut ServiceConfig), &'a str);
        let cases: [Case; 6] = [
            (|c| c.live.max_rooms = 0, "max_rooms"),
            (|c| c.live.room.window.stride = 0, "stride"),
            (|c| c.workers = 0, "workers"),
            (|c| c.queue_capacity = 0, "queue_capacity"),
            (|c| c.request_timeout = Duration::ZERO, "request_timeout"),
            (|c| c.auth_token = Some(Secret::new("  ")), "token"),
        ];
        for (edit, name) in cases {
            let mut c = ServiceConfig::default();
            edit(&mut c);
            let err = c
                .validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(name), "{err} should name {name}");
        }
        assert!(ServiceConfig::default().validate().is_ok());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = ServiceConfig {
            auth_token: Some(Secret::new("hunter2")),
            ..ServiceConfig::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2"));
        assert!(s.contains("<redacted>"));
    }

    #[test]
    fn token_file_is_trimmed_and_empty_is_rejected() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("t");
        std::fs::write(&p, " abc\n")?;
        assert_eq!(ServiceConfig::read_token_file(&p)?.expose(), "abc");
        std::fs::write(&p, "\n")?;
        assert!(ServiceConfig::read_token_file(&p).is_err());
        assert!(ServiceConfig::read_token_file(&dir.path().join("missing")).is_err());
        Ok(())
    }
}
