//! Live rooms: a bounded registry of [`RoomState`]s (the incremental scanner of
//! `qingwang_model::transcript`), fed by segment pushes, scored on the model workers through
//! [`scorer::PoolScorer`], with incidents fanned out to Server-Sent-Event listeners and the
//! optional [`webhook`].
//!
//! Bounds: at most `max_rooms` rooms; at most `max_room_chars` chars buffered per room (the
//! stream tail the next windows need plus segments held for reordering); at most
//! `room.max_incidents_kept` incidents kept per room for GET (the counts cover all); a room idle
//! for `idle_ttl` is flushed and evicted by [`sweep`], and its listeners are told why.
//! Room code is synchronous and runs on blocking threads, one push per room at a time.

pub mod scorer;
pub mod webhook;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use qingwang_model::transcript::{Incident, RoomConfig, RoomState, Segment, Summary};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::error::{ApiError, BackendError};
use crate::metrics::Metrics;
use crate::state::AppState;
use scorer::PoolScorer;
use webhook::{Webhook, WebhookConfig};

/// Limits and settings of the live rooms.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Rooms open at once.
    pub max_rooms: usize,
    /// Chars buffered per room (stream tail plus held segments).
    pub max_room_chars: usize,
    /// Segments in one push.
    pub max_segments_per_request: usize,
    /// A room with no push for this long is flushed and evicted.
    pub idle_ttl: Duration,
    /// How often [`sweep`] runs (eviction, and releasing reorder gaps that waited too long).
    pub sweep_interval: Duration,
    /// Windows, reordering, longest segment, incidents kept.
    pub room: RoomConfig,
    /// Events buffered per SSE listener before it is told it lagged.
    pub events_capacity: usize,
    /// Where incidents are POSTed, if anywhere.
    pub webhook: Option<WebhookConfig>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            max_rooms: 5_000,
            max_room_chars: 40_000,
            max_segments_per_request: 1_000,
            idle_ttl: Duration::from_secs(300),
            sweep_interval: Duration::from_secs(1),
            room: RoomConfig {
                max_incidents_kept: 200,
                ..RoomConfig::default()
            },
            events_capacity: 256,
            webhook: None,
        }
    }
}

impl LiveConfig {
    /// Check every limit; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_rooms", self.max_rooms),
            ("max_room_chars", self.max_room_chars),
            ("max_segments_per_request", self.max_segments_per_request),
            ("events_capacity", self.events_capacity),
            ("room.max_segment_chars", self.room.max_segment_chars),
            ("room.max_incidents_kept", self.room.max_incidents_kept),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if self.idle_ttl.is_zero() || self.sweep_interval.is_zero() {
            return Err("idle_ttl and sweep_interval must be positive".into());
        }
        if self.max_room_chars < self.room.max_segment_chars {
            return Err(format!(
                "max_room_chars {} is less than room.max_segment_chars {}",
                self.max_room_chars, self.room.max_segment_chars
            ));
        }
        self.room.window.validate()?;
        if let Some(w) = &self.webhook {
            w.validate()?;
        }
        Ok(())
    }
}

/// Why a room stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// DELETE /v1/rooms/{id}.
    Closed,
    /// Idle longer than the TTL.
    Evicted,
    /// The service is stopping.
    Shutdown,
}

impl CloseReason {
    fn name(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Evicted => "evicted",
            Self::Shutdown => "shutdown",
        }
    }
}

/// What SSE listeners and the webhook receive.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomEvent {
    /// A new incident.
    Incident {
        /// The room.
        room_id: String,
        /// The incident.
        incident: Incident,
    },
    /// The room stopped; no more events follow.
    Closed {
        /// The room.
        room_id: String,
        /// Why.
        reason: CloseReason,
    },
}

/// One live room.
pub struct Room {
    /// Its id.
    pub id: String,
    created_ms: u64,
    last_ms: AtomicU64,
    state: tokio::sync::Mutex<RoomState>,
    events: broadcast::Sender<RoomEvent>,
}

impl Room {
    /// Listen for the room's events.
    pub fn subscribe(&self) -> broadcast::Receiver<RoomEvent> {
        self.events.subscribe()
    }
}

/// The registry of open rooms.
pub struct Rooms {
    cfg: LiveConfig,
    epoch: Instant,
    map: Mutex<HashMap<String, Arc<Room>>>,
    webhook: Option<Webhook>,
}

/// A push's answer.
#[derive(Debug, Serialize)]
pub struct Pushed {
    /// The room.
    pub room_id: String,
    /// New segments taken.
    pub accepted: usize,
    /// Segments already seen.
    pub duplicate: usize,
    /// Segments that came after their gap was given up; ignored.
    pub late: usize,
    /// Incidents the new text completed.
    pub incidents: Vec<Incident>,
    /// Chars the room holds now.
    pub buffered_chars: usize,
    /// Segments held waiting for a gap.
    pub held: usize,
}

/// A closed room's last answer.
#[derive(Debug, Serialize)]
pub struct ClosedRoom {
    /// The room.
    pub room_id: String,
    /// Why it closed.
    pub reason: CloseReason,
    /// Incidents the flush completed.
    pub incidents: Vec<Incident>,
    /// The room's totals.
    pub summary: Summary,
}

/// GET /v1/rooms/{id}.
#[derive(Debug, Serialize)]
pub struct RoomView {
    /// The room.
    pub room_id: String,
    /// Since the first push, ms.
    pub age_ms: u64,
    /// Since the last push, ms.
    pub idle_ms: u64,
    /// Chars held.
    pub buffered_chars: usize,
    /// Segments held waiting for a gap.
    pub held: usize,
    /// Duplicate segments ignored.
    pub duplicates: u64,
    /// Late segments ignored.
    pub late: u64,
    /// SSE listeners now.
    pub listeners: usize,
    /// The latest incidents, oldest first.
    pub incidents: Vec<Incident>,
    /// Totals, incidents per label, risk per minute, the worst minute.
    pub summary: Summary,
}

/// One line of GET /v1/rooms.
#[derive(Debug, Serialize)]
pub struct RoomBrief {
    /// The room.
    pub room_id: String,
    /// Since the first push, ms.
    pub age_ms: u64,
    /// Since the last push, ms.
    pub idle_ms: u64,
}

/// Room ids: 1–128 of `A–Z a–z 0–9 _ - . :`.
pub fn check_room_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            "room_id",
            "must be 1-128 characters of A-Z a-z 0-9 _ - . :",
        ))
    }
}

impl Rooms {
    /// An empty registry (`cfg` validated by the caller).
    pub fn new(cfg: LiveConfig) -> Self {
        let webhook = cfg.webhook.clone().map(Webhook::new);
        Self {
            cfg,
            epoch: Instant::now(),
            map: Mutex::new(HashMap::new()),
            webhook,
        }
    }

    /// The settings.
    pub fn config(&self) -> &LiveConfig {
        &self.cfg
    }

    /// Milliseconds since the registry started (the rooms' clock).
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Room>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rooms open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// No room is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An open room.
    pub fn get(&self, id: &str) -> Option<Arc<Room>> {
        self.lock().get(id).cloned()
    }

    /// Every open room, by id.
    pub fn list(&self) -> Vec<RoomBrief> {
        let now = self.now_ms();
        let mut v: Vec<RoomBrief> = self
            .lock()
            .values()
            .map(|r| RoomBrief {
                room_id: r.id.clone(),
                age_ms: now.saturating_sub(r.created_ms),
                idle_ms: now.saturating_sub(r.last_ms.load(Ordering::SeqCst)),
            })
            .collect();
        v.sort_by(|a, b| a.room_id.cmp(&b.room_id));
        v
    }

    /// The room, opened if new; touched.
    fn open(&self, id: &str, metrics: &Metrics) -> Result<Arc<Room>, ApiError> {
        let now = self.now_ms();
        let mut map = self.lock();
        if let Some(r) = map.get(id) {
            r.last_ms.store(now, Ordering::SeqCst);
            return Ok(Arc::clone(r));
        }
        if map.len() >= self.cfg.max_rooms {
            return Err(ApiError::RoomLimit {
                max: self.cfg.max_rooms,
            });
        }
        let (events, _) = broadcast::channel(self.cfg.events_capacity);
        let room = Arc::new(Room {
            id: id.to_string(),
            created_ms: now,
            last_ms: AtomicU64::new(now),
            state: tokio::sync::Mutex::new(RoomState::new(self.cfg.room)),
            events,
        });
        map.insert(id.to_string(), Arc::clone(&room));
        metrics.rooms_active.set(map.len() as i64);
        Ok(room)
    }

    /// Remove a room (only this one: not a newer room that took the id).
    fn remove(&self, room: &Arc<Room>, metrics: &Metrics) -> bool {
        let mut map = self.lock();
        let same = map.get(&room.id).is_some_and(|r| Arc::ptr_eq(r, room));
        if same {
            map.remove(&room.id);
        }
        metrics.rooms_active.set(map.len() as i64);
        same
    }

    /// Put a room back after a failed close, unless the id was taken meanwhile.
    fn restore(&self, room: Arc<Room>, metrics: &Metrics) {
        let mut map = self.lock();
        map.entry(room.id.clone()).or_insert(room);
        metrics.rooms_active.set(map.len() as i64);
    }
}

/// Send incidents to listeners and the webhook; count them. `received`: when the push that
/// completed them arrived (alert latency is measured from it).
fn emit(state: &AppState, room: &Room, incidents: &[Incident], received: Option<Instant>) {
    for inc in incidents {
        if let Some(t) = received {
            state
                .metrics
                .alert_latency_seconds
                .observe(t.elapsed().as_secs_f64());
        }
        for l in &inc.labels {
            Metrics::inc(&state.metrics.room_incidents, &l.id);
        }
        let ev = RoomEvent::Incident {
            room_id: room.id.clone(),
            incident: inc.clone(),
        };
        if let Some(w) = &state.rooms.webhook {
            match serde_json::to_vec(&ev) {
                Ok(body) => w.deliver("incident", body, Arc::clone(&state.metrics)),
                Err(e) => tracing::error!(error = %e, "webhook: cannot encode an incident"),
            }
        }
        // No listener is not an error.
        let _ = room.events.send(ev);
    }
}

fn join_error(_: tokio::task::JoinError) -> ApiError {
    ApiError::Internal(BackendError::Panicked)
}

/// Append segments to a room (opened if new) received at `received`; score what they complete.
/// Segments are validated by the caller. On a scoring failure (queue full, deadline) the
/// segments are kept: resending them is answered as duplicates plus the incidents they completed.
pub async fn push(
    state: &AppState,
    room_id: &str,
    segments: Vec<Segment>,
    received: Instant,
) -> Result<Pushed, ApiError> {
    let chars: usize = segments.iter().map(|s| s.text.chars().count()).sum();
    let deadline = received + state.config.request_timeout;
    let max_chars = state.rooms.cfg.max_room_chars;
    let mut segments = segments;
    // A room closed between lookup and lock is replaced by a new one, once.
    for _ in 0..2 {
        let room = state.rooms.open(room_id, &state.metrics)?;
        let s = state.clone();
        let r = Arc::clone(&room);
        let handle = tokio::runtime::Handle::current();
        let now_ms = state.rooms.now_ms();
        let out = tokio::task::spawn_blocking(move || {
            let mut st = r.state.blocking_lock();
            if st.is_closed() {
                return Ok(Err(segments));
            }
            let buffered = st.buffered_chars() + chars;
            if buffered > max_chars {
                return Err(ApiError::RoomBufferFull {
                    buffered,
                    max: max_chars,
                });
            }
            let scorer = PoolScorer::new(&s, deadline, handle);
            let o = st
                .push(segments, now_ms, &scorer)
                .map_err(|e| scorer.api_error(e))?;
            Ok(Ok((o, st.buffered_chars(), st.held())))
        })
        .await
        .map_err(join_error)??;
        match out {
            Err(back) => segments = back,
            Ok((o, buffered_chars, held)) => {
                state.metrics.room_segments.inc_by(o.accepted as u64);
                emit(state, &room, &o.incidents, Some(received));
                return Ok(Pushed {
                    room_id: room.id.clone(),
                    accepted: o.accepted,
                    duplicate: o.duplicate,
                    late: o.late,
                    incidents: o.incidents,
                    buffered_chars,
                    held,
                });
            }
        }
    }
    Err(ApiError::NotReady)
}

/// Snapshot of an open room.
pub async fn view(state: &AppState, room_id: &str) -> Result<RoomView, ApiError> {
    let room = state
        .rooms
        .get(room_id)
        .ok_or_else(|| ApiError::RoomNotFound(room_id.to_string()))?;
    let st = room.state.lock().await;
    let now = state.rooms.now_ms();
    let (duplicates, late) = st.ignored();
    Ok(RoomView {
        room_id: room.id.clone(),
        age_ms: now.saturating_sub(room.created_ms),
        idle_ms: now.saturating_sub(room.last_ms.load(Ordering::SeqCst)),
        buffered_chars: st.buffered_chars(),
        held: st.held(),
        duplicates,
        late,
        listeners: room.events.receiver_count(),
        incidents: st.incidents().cloned().collect(),
        summary: st.summary(),
    })
}

/// Flush and close a room taken out of the registry; tell its listeners. On a scoring failure
/// the room goes back (still open) and the error is returned, except at shutdown.
async fn finish(
    state: &AppState,
    room: Arc<Room>,
    reason: CloseReason,
) -> Result<ClosedRoom, ApiError> {
    let s = state.clone();
    let r = Arc::clone(&room);
    let handle = tokio::runtime::Handle::current();
    let deadline = Instant::now() + state.config.request_timeout;
    let flushed = tokio::task::spawn_blocking(move || {
        let mut st = r.state.blocking_lock();
        let scorer = PoolScorer::new(&s, deadline, handle);
        let out = st.close(&scorer).map_err(|e| scorer.api_error(e));
        (out, st.summary())
    })
    .await
    .map_err(join_error)?;
    let (incidents, summary) = match flushed {
        (Ok(i), summary) => (i, summary),
        (Err(e), summary) => {
            if reason == CloseReason::Shutdown {
                tracing::warn!(room = %room.id, error = %e, "room not flushed at shutdown");
                (Vec::new(), summary)
            } else {
                state.rooms.restore(room, &state.metrics);
                return Err(e);
            }
        }
    };
    emit(state, &room, &incidents, None);
    let _ = room.events.send(RoomEvent::Closed {
        room_id: room.id.clone(),
        reason,
    });
    Metrics::inc(&state.metrics.rooms_closed, reason.name());
    Ok(ClosedRoom {
        room_id: room.id.clone(),
        reason,
        incidents,
        summary,
    })
}

/// DELETE /v1/rooms/{id}: flush, close, remove.
pub async fn close(state: &AppState, room_id: &str) -> Result<ClosedRoom, ApiError> {
    let room = state
        .rooms
        .get(room_id)
        .ok_or_else(|| ApiError::RoomNotFound(room_id.to_string()))?;
    if !state.rooms.remove(&room, &state.metrics) {
        return Err(ApiError::RoomNotFound(room_id.to_string()));
    }
    finish(state, room, CloseReason::Closed).await
}

/// Evict rooms idle past the TTL (flushed first; their listeners told), and release reorder
/// gaps that waited too long in the others. The server runs it every `sweep_interval`.
pub async fn sweep(state: &AppState) {
    let rooms = &state.rooms;
    let now = rooms.now_ms();
    let ttl = rooms.cfg.idle_ttl.as_millis() as u64;
    let all: Vec<Arc<Room>> = rooms.lock().values().cloned().collect();
    for room in all {
        let idle = now.saturating_sub(room.last_ms.load(Ordering::SeqCst));
        if idle >= ttl {
            if rooms.remove(&room, &state.metrics) {
                if let Err(e) = finish(state, room, CloseReason::Evicted).await {
                    tracing::warn!(error = %e, "eviction flush failed; retried next sweep");
                }
            }
            continue;
        }
        let has_held = room.state.try_lock().is_ok_and(|st| st.held() > 0);
        if has_held {
            let s = state.clone();
            let r = Arc::clone(&room);
            let handle = tokio::runtime::Handle::current();
            let deadline = Instant::now() + state.config.request_timeout;
            let ticked = tokio::task::spawn_blocking(move || {
                let mut st = r.state.blocking_lock();
                let scorer = PoolScorer::new(&s, deadline, handle);
                st.tick(now, &scorer).map_err(|e| scorer.api_error(e))
            })
            .await;
            if let Ok(Ok(incidents)) = ticked {
                emit(state, &room, &incidents, None);
            }
        }
    }
}

/// Run [`sweep`] every `sweep_interval` for the life of the runtime.
pub fn spawn_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(state.rooms.cfg.sweep_interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            sweep(&state).await;
        }
    });
}

/// Flush and close every room (reason `shutdown`), so SSE streams end and the server can stop.
pub async fn shutdown(state: &AppState) {
    let all: Vec<Arc<Room>> = {
        let mut map = state.rooms.lock();
        map.drain().map(|(_, r)| r).collect()
    };
    state.metrics.rooms_active.set(0);
    for room in all {
        let _ = finish(state, room, CloseReason::Shutdown).await;
    }
}
