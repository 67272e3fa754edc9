//! Jobs over HTTP: submit, read, list, cancel, follow (Server-Sent Events),
//! and the fleet's readiness and workers.

use std::convert::Infallible;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use framejet_spec::fleet::{Event, EventBody, JobRecord, JobState, WorkerStatus, is_token};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;

use super::auth::{Caller, Role};
use super::{ApiError, Gateway};
use crate::fleet::{
    FleetError, PurgedQueue, SubmitOptions, Submitted, cancel_job, purge_job, submit_job,
};

/// The answer of `GET /readyz`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Ready {
    pub ready: bool,
}

/// A page of `GET /v1/jobs`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct JobList {
    pub jobs: Vec<JobRecord>,
    /// The cursor of the next page; none on the last.
    pub next: Option<String>,
}

/// `GET /readyz`: NATS answers and the fleet's streams exist.
pub(super) async fn ready(State(gw): State<Gateway>) -> Result<Json<Ready>, ApiError> {
    for name in [
        gw.fleet.names().jobs_stream(),
        gw.fleet.names().work_stream(),
        gw.fleet.names().events_stream(),
    ] {
        gw.fleet
            .jetstream()
            .get_stream(&name)
            .await
            .map_err(|e| FleetError::nats(format!("find stream {name}"), e))?;
    }
    Ok(Json(Ready { ready: true }))
}

/// The record of job `id` if `caller` may see it; not found otherwise, so
/// that another owner's job ids do not leak.
pub(super) async fn visible_record(
    gw: &Gateway,
    caller: &Caller,
    id: &str,
) -> Result<JobRecord, ApiError> {
    let missing = || ApiError::NotFound(format!("no job `{id}`"));
    if !is_token(id) {
        return Err(missing());
    }
    match gw.fleet.record(id).await? {
        Some((record, _)) if caller.sees(record.owner.as_deref()) => Ok(record),
        _ => Err(missing()),
    }
}

/// `GET /v1/jobs/{id}`.
pub(super) async fn record(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<JobRecord>, ApiError> {
    let caller = gw.caller(&headers)?;
    Ok(Json(visible_record(&gw, &caller, &id).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    state: Option<String>,
    queue: Option<String>,
    limit: Option<usize>,
    /// The last id of the previous page.
    cursor: Option<String>,
}

/// `GET /v1/jobs`: the caller's jobs (every owner's for an admin), by id,
/// `limit` at a time (default 50, at most 500); `next` is the cursor of the
/// next page.
pub(super) async fn list(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Json<JobList>, ApiError> {
    let caller = gw.caller(&headers)?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let mut keys: Vec<String> = match gw.fleet.jobs.keys().await {
        Ok(keys) => keys.filter_map(|k| async { k.ok() }).collect().await,
        Err(e) => return Err(FleetError::nats("list the job records", e).into()),
    };
    keys.sort();
    let mut jobs = Vec::new();
    let mut next = None;
    for key in keys
        .into_iter()
        .filter(|k| query.cursor.as_ref().is_none_or(|c| k > c))
    {
        let Some((record, _)) = gw.fleet.record(&key).await? else {
            continue;
        };
        let wanted = caller.sees(record.owner.as_deref())
            && query
                .state
                .as_ref()
                .is_none_or(|s| s == record.state.name())
            && query
                .queue
                .as_ref()
                .is_none_or(|q| record.queue.as_ref() == Some(q));
        if !wanted {
            continue;
        }
        if jobs.len() == limit {
            next = jobs.last().map(|r: &JobRecord| r.id.clone());
            break;
        }
        jobs.push(record);
    }
    Ok(Json(JobList { jobs, next }))
}

/// `GET /v1/jobs/{id}/log`: the job's log as text (state changes, task
/// starts, plugin and encoder lines), stored with the output once the job
/// ends; made from its events while it runs.
pub(super) async fn log(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = gw.caller(&headers)?;
    let record = visible_record(&gw, &caller, &id).await?;
    let text = crate::fleet::job_log(&gw.fleet, &record).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct CancelQuery {
    #[serde(default)]
    purge: bool,
}

/// `DELETE /v1/jobs/{id}`: cancels the job (its record answers); with
/// `?purge=true` also deletes its objects, events and record (204).
pub(super) async fn cancel(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<CancelQuery>,
) -> Result<Response, ApiError> {
    let caller = gw.caller(&headers)?;
    visible_record(&gw, &caller, &id).await?;
    caller.require(Role::Submit, "cancel jobs")?;
    if query.purge {
        purge_job(&gw.fleet, &id).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(cancel_job(&gw.fleet, &id).await?).into_response())
}

/// `GET /v1/jobs/{id}/events`: the job's events from its start (or after
/// `Last-Event-ID`, the events stream's sequence of the last one seen), as
/// Server-Sent Events named by kind (`state`, `progress`, `log`, `task`,
/// `refused`), each with its sequence as its id. The stream ends after the
/// event of the job's end.
pub(super) async fn events(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let caller = gw.caller(&headers)?;
    visible_record(&gw, &caller, &id).await?;
    let after = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest("Last-Event-ID: expected an event's id (a number)".into())
                })?,
        ),
    };
    let names = gw.fleet.names();
    let stream = gw
        .fleet
        .jetstream()
        .get_stream(names.events_stream())
        .await
        .map_err(|e| FleetError::nats("open the events stream", e))?;
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: names.job_events(&id),
            deliver_policy: match after {
                Some(seq) => DeliverPolicy::ByStartSequence {
                    start_sequence: seq + 1,
                },
                None => DeliverPolicy::All,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| FleetError::nats("follow the job's events", e))?;
    let messages = consumer
        .messages()
        .await
        .map_err(|e| FleetError::nats("follow the job's events", e))?;
    let follow = Follow {
        gw: gw.clone(),
        id,
        messages: Box::pin(messages),
        backstop: tokio::time::interval(Duration::from_secs(1)),
        ended: false,
    };
    let events = futures_util::stream::unfold(follow, |mut f| async move {
        let event = f.next().await?;
        Some((Ok(event), f))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// One job's events as they come, for [`events`].
struct Follow {
    gw: Gateway,
    id: String,
    messages: std::pin::Pin<Box<async_nats::jetstream::consumer::pull::Ordered>>,
    /// The record is read every second: if the job ended and its last
    /// event is gone (expired, purged), the stream still ends.
    backstop: tokio::time::Interval,
    ended: bool,
}

impl Follow {
    async fn next(&mut self) -> Option<SseEvent> {
        if self.ended {
            return None;
        }
        loop {
            tokio::select! {
                message = self.messages.next() => match message {
                    Some(Ok(message)) => {
                        let (event, last) = sse_event(&message);
                        self.ended = last;
                        return Some(event);
                    }
                    Some(Err(e)) => tracing::debug!("events of job {}: {e}", self.id),
                    None => return None,
                },
                _ = self.backstop.tick() => {
                    if let Ok(Some((record, _))) = self.gw.fleet.record(&self.id).await
                        && record.state.is_final()
                    {
                        // Its final event, if still stored, came before this
                        // read: give it a moment, then end with the record's word.
                        if let Ok(Some(Ok(message))) =
                            tokio::time::timeout(Duration::from_millis(200), self.messages.next()).await
                        {
                            let (event, last) = sse_event(&message);
                            self.ended = last;
                            return Some(event);
                        }
                        self.ended = true;
                        let event = Event {
                            version: framejet_spec::fleet::WIRE_VERSION,
                            job_id: self.id.clone(),
                            at_ms: crate::fleet::now_ms(),
                            body: EventBody::State { state: record.state, error: record.error },
                        };
                        let text = serde_json::to_string(&event).unwrap_or_default();
                        return Some(SseEvent::default().event("state").data(text));
                    }
                }
            }
        }
    }
}

/// An event message as a Server-Sent Event (named by the subject's last
/// token, its id the stream sequence), and whether it tells the job's end.
fn sse_event(message: &async_nats::jetstream::Message) -> (SseEvent, bool) {
    let seq = message.info().map_or(0, |i| i.stream_sequence);
    let kind = message.subject.rsplit('.').next().unwrap_or("event");
    let last = serde_json::from_slice::<Event>(&message.payload)
        .is_ok_and(|e| matches!(e.body, EventBody::State { state, .. } if state.is_final()));
    let event = SseEvent::default()
        .id(seq.to_string())
        .event(kind)
        .data(String::from_utf8_lossy(&message.payload));
    (event, last)
}

/// `POST /v1/jobs/{id}/retry`: a failed or cancelled job again, the same
/// spec and owner under a new id (`ID-retry-N`, the first free). Answers
/// 201 with the new job's record.
pub(super) async fn retry(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = gw.caller(&headers)?;
    let record = visible_record(&gw, &caller, &id).await?;
    caller.require(Role::Submit, "retry jobs")?;
    if !matches!(record.state, JobState::Failed | JobState::Cancelled) {
        return Err(ApiError::Conflict(format!(
            "job `{id}` is {}: only a failed or cancelled job is retried",
            record.state.name()
        )));
    }
    let base = id.split("-retry-").next().unwrap_or(&id).to_string();
    for n in 1..=1000 {
        let new_id = format!("{base}-retry-{n}");
        if gw.fleet.record(&new_id).await?.is_some() {
            continue;
        }
        let mut spec = record.spec.clone();
        spec.id = Some(new_id.clone());
        let created = submit_job(
            &gw.fleet,
            spec,
            &SubmitOptions {
                id: Some(new_id.clone()),
                owner: record.owner.clone(),
                webhook: record.webhook.clone(),
            },
        )
        .await;
        match created {
            // Taken in between by another retry: the next number.
            Err(FleetError::Refused(_)) => continue,
            Err(e) => return Err(e.into()),
            Ok(Submitted {
                record: created, ..
            }) => {
                let location = format!("/v1/jobs/{}", created.id);
                return Ok((
                    StatusCode::CREATED,
                    [(header::LOCATION, location)],
                    Json(created),
                )
                    .into_response());
            }
        }
    }
    Err(ApiError::Conflict(format!(
        "job `{base}` was retried too many times"
    )))
}

/// One queue's state, for `GET /v1/queues`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct QueueState {
    pub queue: String,
    /// Tasks waiting, by priority (`high`, `normal`, `low`).
    pub waiting: std::collections::BTreeMap<String, u64>,
    /// Tasks handed to a worker and not yet acked.
    pub in_flight: u64,
    /// How long the oldest waiting task has waited, in milliseconds.
    pub oldest_waiting_ms: Option<u64>,
    /// Live workers serving the queue.
    pub workers: usize,
}

/// `GET /v1/queues`: every queue with a consumer: waiting and in-flight
/// tasks, the oldest waiting task's age and the workers serving it.
pub(super) async fn queues(
    State(gw): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Vec<QueueState>>, ApiError> {
    gw.caller(&headers)?;
    let stream = gw.fleet.work_stream().await?;
    let mut consumers = Vec::new();
    {
        let mut list = stream.consumers();
        while let Some(info) = list.next().await {
            consumers.push(info.map_err(|e| FleetError::nats("list the queues", e))?);
        }
    }
    let workers = live_workers(&gw).await?;
    let mut queues: std::collections::BTreeMap<String, QueueState> = Default::default();
    let now = crate::fleet::now_ms();
    for info in consumers {
        let Some((queue, priority)) = info.name.rsplit_once('-') else {
            continue;
        };
        let state = queues
            .entry(queue.to_string())
            .or_insert_with(|| QueueState {
                queue: queue.to_string(),
                waiting: Default::default(),
                in_flight: 0,
                oldest_waiting_ms: None,
                workers: workers
                    .iter()
                    .filter(|w| w.queues.iter().any(|q| q == queue))
                    .count(),
            });
        state.waiting.insert(priority.to_string(), info.num_pending);
        state.in_flight += info.num_ack_pending as u64;
        if info.num_pending > 0
            && let Ok(first) = stream
                .get_first_raw_message_by_subject(
                    &info.config.filter_subject,
                    info.delivered.stream_sequence + 1,
                )
                .await
        {
            let at = first.time.unix_timestamp_nanos() / 1_000_000;
            let age = now.saturating_sub(u64::try_from(at).unwrap_or(0));
            state.oldest_waiting_ms = Some(state.oldest_waiting_ms.map_or(age, |o| o.max(age)));
        }
    }
    Ok(Json(queues.into_values().collect()))
}

/// `POST /v1/queues/{name}/purge` (admin): removes the queue's tasks and
/// fails their jobs.
pub(super) async fn purge_queue(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<PurgedQueue>, ApiError> {
    gw.caller(&headers)?.require(Role::Admin, "purge queues")?;
    if !is_token(&name) {
        return Err(ApiError::NotFound(format!("no queue `{name}`")));
    }
    Ok(Json(crate::fleet::purge_queue(&gw.fleet, &name).await?))
}

async fn live_workers(gw: &Gateway) -> Result<Vec<WorkerStatus>, ApiError> {
    let keys: Vec<String> = match gw.fleet.workers.keys().await {
        Ok(keys) => keys.filter_map(|k| async { k.ok() }).collect().await,
        Err(e) => return Err(FleetError::nats("list the workers", e).into()),
    };
    let mut workers = Vec::new();
    for key in keys {
        if let Ok(Some(value)) = gw.fleet.workers.get(&key).await
            && let Ok(status) = serde_json::from_slice::<WorkerStatus>(&value)
        {
            workers.push(status);
        }
    }
    workers.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(workers)
}

/// `GET /v1/workers`: each worker's last heartbeat.
pub(super) async fn workers(
    State(gw): State<Gateway>,
    headers: HeaderMap,
) -> Result<Json<Vec<WorkerStatus>>, ApiError> {
    gw.caller(&headers)?;
    Ok(Json(live_workers(&gw).await?))
}
