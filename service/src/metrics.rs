//! Prometheus metrics: requests and failures by route, latency split into queue, tokenisation
//! and inference, batch sizes, queue depth, verdicts and labels flagged, reloads, and the live
//! rooms (active rooms, segments, incidents by label, alert latency, webhook deliveries).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// route + status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteStatus {
    /// Matched route pattern.
    pub route: String,
    /// HTTP status code.
    pub status: u16,
}

/// route + error code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteKind {
    /// Matched route pattern.
    pub route: String,
    /// [`crate::ApiError::code`].
    pub kind: String,
}

/// route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    /// Matched route pattern.
    pub route: String,
}

/// One string label named `value`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Value {
    /// The value.
    pub value: String,
}

fn seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

/// All the service's metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests by route and status.
    pub requests: Family<RouteStatus, Counter>,
    /// Failed requests by route and error code.
    pub failures: Family<RouteKind, Counter>,
    /// Whole-request latency by route.
    pub request_seconds: Family<Route, Histogram, fn() -> Histogram>,
    /// Time a job waited in the queue.
    pub queue_seconds: Histogram,
    /// Tokenisation time per worker batch.
    pub tokenize_seconds: Histogram,
    /// Inference time per worker batch.
    pub inference_seconds: Histogram,
    /// Texts per worker batch.
    pub batch_texts: Histogram,
    /// Jobs waiting for a worker.
    pub queue_depth: Gauge,
    /// Queued jobs dropped before running, by reason (deadline, disconnected).
    pub cancelled: Family<Value, Counter>,
    /// Texts by verdict.
    pub verdicts: Family<Value, Counter>,
    /// Labels flagged.
    pub labels_flagged: Family<Value, Counter>,
    /// Reloads by outcome.
    pub reloads: Family<Value, Counter>,
    /// Live rooms open now.
    pub rooms_active: Gauge,
    /// Segments accepted by live rooms.
    pub room_segments: Counter,
    /// Rooms closed, by reason (closed, evicted, shutdown).
    pub rooms_closed: Family<Value, Counter>,
    /// Incidents emitted by live rooms, by label.
    pub room_incidents: Family<Value, Counter>,
    /// Segment received → incident emitted, for incidents a segment push completed.
    pub alert_latency_seconds: Histogram,
    /// Webhook deliveries by outcome (delivered, retried, failed, dropped).
    pub webhook_deliveries: Family<Value, Counter>,
    /// Label Studio webhook events by action.
    pub labelstudio_webhooks: Family<Value, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("qingwang");
        let m = Self {
            requests: Family::default(),
            failures: Family::default(),
            request_seconds: Family::new_with_constructor(seconds_buckets),
            queue_seconds: seconds_buckets(),
            tokenize_seconds: seconds_buckets(),
            inference_seconds: seconds_buckets(),
            batch_texts: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            queue_depth: Gauge::default(),
            cancelled: Family::default(),
            verdicts: Family::default(),
            labels_flagged: Family::default(),
            reloads: Family::default(),
            rooms_active: Gauge::default(),
            room_segments: Counter::default(),
            rooms_closed: Family::default(),
            room_incidents: Family::default(),
            alert_latency_seconds: seconds_buckets(),
            webhook_deliveries: Family::default(),
            labelstudio_webhooks: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_failures",
            "Failed HTTP requests by route and error code",
            m.failures.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Request latency by route",
            m.request_seconds.clone(),
        );
        registry.register(
            "queue_wait_seconds",
            "Time a job waited for a model worker",
            m.queue_seconds.clone(),
        );
        registry.register(
            "tokenize_seconds",
            "Tokenisation time per worker batch",
            m.tokenize_seconds.clone(),
        );
        registry.register(
            "inference_seconds",
            "Inference time per worker batch",
            m.inference_seconds.clone(),
        );
        registry.register(
            "batch_texts",
            "Texts per worker batch",
            m.batch_texts.clone(),
        );
        registry.register(
            "queue_depth",
            "Jobs waiting for a model worker",
            m.queue_depth.clone(),
        );
        registry.register(
            "jobs_cancelled",
            "Queued jobs dropped before running, by reason",
            m.cancelled.clone(),
        );
        registry.register(
            "verdicts",
            "Texts classified, by verdict",
            m.verdicts.clone(),
        );
        registry.register(
            "labels_flagged",
            "Labels flagged, by label",
            m.labels_flagged.clone(),
        );
        registry.register("reloads", "Model reloads by outcome", m.reloads.clone());
        registry.register(
            "rooms_active",
            "Live rooms open now",
            m.rooms_active.clone(),
        );
        registry.register(
            "room_segments",
            "Segments accepted by live rooms",
            m.room_segments.clone(),
        );
        registry.register(
            "rooms_closed",
            "Live rooms closed, by reason",
            m.rooms_closed.clone(),
        );
        registry.register(
            "room_incidents",
            "Incidents emitted by live rooms, by label",
            m.room_incidents.clone(),
        );
        registry.register(
            "alert_latency_seconds",
            "Segment received to incident emitted, for incidents a segment push completed",
            m.alert_latency_seconds.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Incident webhook deliveries by outcome",
            m.webhook_deliveries.clone(),
        );
        registry.register(
            "labelstudio_webhook_events",
            "Label Studio webhook events received, by action",
            m.labelstudio_webhooks.clone(),
        );
        Self { registry, ..m }
    }
}

impl Metrics {
    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        if prometheus_client::encoding::text::encode(&mut s, &self.registry).is_err() {
            s.clear();
        }
        s
    }

    /// Count one of a label family.
    pub fn inc(family: &Family<Value, Counter>, value: &str) {
        family
            .get_or_create(&Value {
                value: value.to_string(),
            })
            .inc();
    }
}
