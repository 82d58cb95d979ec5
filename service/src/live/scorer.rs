//! [`PoolScorer`]: a [`WindowScorer`] that sends window texts to the service's model workers.
//! It runs on a blocking thread (the room code is synchronous) and waits on the workers' replies
//! through the tokio runtime's handle, under the request's deadline.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use qingwang_model::transcript::{WindowScorer, pass_prediction};
use qingwang_model::{ClassifyOptions, ModelError, Prediction};
use tokio::runtime::Handle;

use crate::error::ApiError;
use crate::state::{AppState, await_job};
use crate::worker::JobReply;

/// Scores windows on the worker pool. Call only from a blocking thread (`spawn_blocking`).
pub struct PoolScorer<'a> {
    state: &'a AppState,
    deadline: Instant,
    handle: Handle,
    failure: Mutex<Option<ApiError>>,
}

impl<'a> PoolScorer<'a> {
    /// A scorer whose jobs are dropped after `deadline`.
    pub fn new(state: &'a AppState, deadline: Instant, handle: Handle) -> Self {
        Self {
            state,
            deadline,
            handle,
            failure: Mutex::new(None),
        }
    }

    /// Why the last call failed, as the client should see it.
    pub fn take_failure(&self) -> Option<ApiError> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Map a room error: the scorer's own failure when it has one.
    pub fn api_error(&self, e: ModelError) -> ApiError {
        self.take_failure()
            .unwrap_or_else(|| ApiError::Internal(crate::error::BackendError::Model(e)))
    }

    async fn collect(&self, rx: JobReply, out: &mut Vec<Prediction>) -> Result<(), ApiError> {
        let o = await_job(rx, self.deadline).await?;
        let model = o.model;
        // A window that is only spaces is not an error of the room: it flags nothing.
        out.extend(
            o.results
                .into_iter()
                .map(|r| r.unwrap_or_else(|_| pass_prediction(&model))),
        );
        Ok(())
    }

    async fn score(&self, texts: &[&str]) -> Result<Vec<Prediction>, ApiError> {
        let cfg = &self.state.config;
        // A few jobs in flight at a time, so a long transcript neither fills the queue nor
        // waits for one worker.
        let in_flight = cfg.workers + 1;
        let mut out = Vec::with_capacity(texts.len());
        let mut waiting: VecDeque<JobReply> = VecDeque::new();
        for chunk in texts.chunks(cfg.max_batch_texts) {
            if waiting.len() >= in_flight {
                if let Some(rx) = waiting.pop_front() {
                    self.collect(rx, &mut out).await?;
                }
            }
            let texts = chunk.iter().map(|t| (*t).to_string()).collect();
            let rx = self
                .state
                .submit_texts(texts, ClassifyOptions::default(), self.deadline)?;
            waiting.push_back(rx);
        }
        while let Some(rx) = waiting.pop_front() {
            self.collect(rx, &mut out).await?;
        }
        Ok(out)
    }
}

impl WindowScorer for PoolScorer<'_> {
    fn score_windows(&self, texts: &[&str]) -> Result<Vec<Prediction>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        self.handle.block_on(self.score(texts)).map_err(|e| {
            let message = e.to_string();
            *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
            ModelError::Scorer(message)
        })
    }
}
