//! The model worker pool: dedicated std threads fed by a bounded queue. Each job is answered on
//! a tokio oneshot. A worker takes every job already waiting (up to `max_batch_texts` texts)
//! and classifies them in one pass. Jobs whose client went away or whose deadline passed are
//! dropped before any model work.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use qingwang_model::{ClassifyOptions, StageTimings};
use tokio::sync::oneshot;

use crate::backend::{Backend, BatchItem, ItemResult};
use crate::error::{BackendError, ServiceError};
use crate::metrics::Metrics;

/// The backend currently serving; swapped whole on reload.
pub struct Loaded {
    /// The backend.
    pub backend: Box<dyn Backend>,
}

/// Where workers find the current backend.
pub type ModelSlot = Arc<ArcSwap<Loaded>>;

/// One request's work.
pub struct Job {
    /// Texts to classify.
    pub texts: Vec<String>,
    /// Options.
    pub options: ClassifyOptions,
    /// After this the job is dropped.
    pub deadline: Instant,
    /// When it was queued.
    pub enqueued: Instant,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<JobOutput, BackendError>>,
}

/// Where a queued job's answer arrives.
pub type JobReply = oneshot::Receiver<Result<JobOutput, BackendError>>;

/// A finished job.
#[derive(Debug)]
pub struct JobOutput {
    /// One result per text.
    pub results: Vec<ItemResult>,
    /// Stage timings of the merged batch it ran in.
    pub timings: StageTimings,
    /// Time it waited in the queue, µs.
    pub queue_us: u64,
    /// Texts in the merged batch.
    pub batch_texts: usize,
    /// Version of the bundle that classified it.
    pub model: String,
}

/// Why a job was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full.
    Full,
    /// The workers are gone.
    Closed,
}

/// Handle to the pool; cheap to share.
pub struct Pool {
    tx: Sender<Job>,
    depth: Arc<AtomicUsize>,
    alive: Arc<AtomicUsize>,
    workers: usize,
}

struct AliveGuard(Arc<AtomicUsize>);
impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pool {
    /// Start `workers` threads over a queue of `capacity` jobs.
    pub fn start(
        workers: usize,
        capacity: usize,
        max_batch_texts: usize,
        slot: ModelSlot,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ServiceError> {
        let (tx, rx) = crossbeam_channel::bounded::<Job>(capacity);
        let depth = Arc::new(AtomicUsize::new(0));
        let alive = Arc::new(AtomicUsize::new(0));
        for i in 0..workers {
            let w = Worker {
                rx: rx.clone(),
                slot: Arc::clone(&slot),
                metrics: Arc::clone(&metrics),
                depth: Arc::clone(&depth),
                max_batch_texts,
            };
            alive.fetch_add(1, Ordering::SeqCst);
            let guard = AliveGuard(Arc::clone(&alive));
            std::thread::Builder::new()
                .name(format!("qingwang-model-{i}"))
                .spawn(move || {
                    let _guard = guard;
                    w.run();
                })
                .map_err(ServiceError::Spawn)?;
        }
        Ok(Self {
            tx,
            depth,
            alive,
            workers,
        })
    }

    /// Queue a job without waiting.
    pub fn submit(&self, job: Job, metrics: &Metrics) -> Result<(), SubmitError> {
        self.depth.fetch_add(1, Ordering::SeqCst);
        match self.tx.try_send(job) {
            Ok(()) => {
                metrics.queue_depth.set(self.depth() as i64);
                Ok(())
            }
            Err(e) => {
                self.depth.fetch_sub(1, Ordering::SeqCst);
                Err(match e {
                    TrySendError::Full(_) => SubmitError::Full,
                    TrySendError::Disconnected(_) => SubmitError::Closed,
                })
            }
        }
    }

    /// Jobs waiting.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::SeqCst)
    }

    /// Whether every worker thread is running.
    pub fn all_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst) == self.workers
    }
}

struct Worker {
    rx: Receiver<Job>,
    slot: ModelSlot,
    metrics: Arc<Metrics>,
    depth: Arc<AtomicUsize>,
    max_batch_texts: usize,
}

impl Worker {
    fn take(&self, job: Job, batch: &mut Vec<Job>) {
        self.depth.fetch_sub(1, Ordering::SeqCst);
        let now = Instant::now();
        if job.reply.is_closed() {
            Metrics::inc(&self.metrics.cancelled, "disconnected");
        } else if now >= job.deadline {
            Metrics::inc(&self.metrics.cancelled, "deadline");
        } else {
            batch.push(job);
        }
    }

    fn run(&self) {
        while let Ok(first) = self.rx.recv() {
            let mut batch = Vec::new();
            self.take(first, &mut batch);
            while batch.iter().map(|j| j.texts.len()).sum::<usize>() < self.max_batch_texts {
                match self.rx.try_recv() {
                    Ok(j) => self.take(j, &mut batch),
                    Err(_) => break,
                }
            }
            self.metrics
                .queue_depth
                .set(self.depth.load(Ordering::SeqCst) as i64);
            if !batch.is_empty() {
                self.process(batch);
            }
        }
    }

    fn process(&self, batch: Vec<Job>) {
        let start = Instant::now();
        let loaded = self.slot.load_full();
        let items: Vec<BatchItem<'_>> = batch
            .iter()
            .map(|j| BatchItem {
                texts: &j.texts,
                options: &j.options,
            })
            .collect();
        let n: usize = batch.iter().map(|j| j.texts.len()).sum();
        let outcome =
            std::panic::catch_unwind(AssertUnwindSafe(|| loaded.backend.classify_batch(&items)))
                .unwrap_or(Err(BackendError::Panicked));
        drop(items);
        self.metrics.batch_texts.observe(n as f64);
        let version = loaded.backend.info().version.clone();
        match outcome {
            Ok((results, timings)) if results.len() == batch.len() => {
                self.metrics
                    .tokenize_seconds
                    .observe(timings.tokenize_us as f64 / 1e6);
                self.metrics
                    .inference_seconds
                    .observe(timings.inference_us as f64 / 1e6);
                for (job, res) in batch.into_iter().zip(results) {
                    let waited = start.saturating_duration_since(job.enqueued);
                    self.metrics.queue_seconds.observe(waited.as_secs_f64());
                    let _ = job.reply.send(Ok(JobOutput {
                        results: res,
                        timings,
                        queue_us: waited.as_micros() as u64,
                        batch_texts: n,
                        model: version.clone(),
                    }));
                }
            }
            Ok(_) => {
                for job in batch {
                    let _ = job.reply.send(Err(BackendError::Misaligned));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, texts = n, "batch failed");
                for job in batch {
                    let _ = job.reply.send(Err(match &e {
                        BackendError::Panicked => BackendError::Panicked,
                        _ => BackendError::BatchFailed,
                    }));
                }
            }
        }
    }
}
