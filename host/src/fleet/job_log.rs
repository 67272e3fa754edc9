//! A job's log: its state changes, task starts and log lines (plugins,
//! encoders, workers) as text, one line each after the time. It is read
//! from the job's events and, once the job ends, kept as an object beside
//! its output (`jobs/<id>/job.log`), so it outlives the events stream.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use framejet_spec::fleet::{Event, EventBody, JobRecord};
use futures_util::StreamExt;

use super::media::job_key;
use super::{Fleet, FleetError};

/// The log's object name within the job's keys.
const LOG_NAME: &str = "job.log";

/// How long a read of the events may wait for the next one it was told of.
const EVENT_WAIT: Duration = Duration::from_secs(5);

/// Job `record`'s log: the stored one once the job has ended and it is
/// written, else made from the job's events so far.
pub async fn job_log(fleet: &Fleet, record: &JobRecord) -> Result<String, FleetError> {
    if record.state.is_final() {
        match fleet
            .get_bytes(&fleet.media, &job_key(&record.id, LOG_NAME))
            .await
        {
            Ok(bytes) => return Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(FleetError::Missing(_)) => {}
            Err(e) => return Err(e),
        }
    }
    render_log(fleet, record).await
}

/// Writes job `id`'s log beside its output; called once the job has
/// ended. A log that cannot be written is a warning: the job's result
/// stands, and [`job_log`] still makes one from the events.
pub(crate) async fn store_job_log(fleet: &Fleet, id: &str) {
    let stored = async {
        let record = fleet.job_record(id).await?;
        let text = render_log(fleet, &record).await?;
        fleet
            .put_bytes(&fleet.media, &job_key(id, LOG_NAME), text.as_bytes())
            .await
    };
    if let Err(e) = stored.await {
        tracing::warn!("job {id}: its log was not stored: {e}");
    }
}

/// The log made from the job's events (all but progress) and its record.
async fn render_log(fleet: &Fleet, record: &JobRecord) -> Result<String, FleetError> {
    let id = &record.id;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} job {id} submitted (priority {}{})",
        time(record.submitted_at_ms),
        framejet_spec::fleet::priority_name(record.priority),
        record
            .owner
            .as_ref()
            .map(|o| format!(", owner {o}"))
            .unwrap_or_default()
    );
    let spec = serde_json::to_string(&record.spec).unwrap_or_default();
    let _ = writeln!(text, "{} spec {spec}", time(record.submitted_at_ms));
    let mut last_was_final = false;
    for event in events(fleet, id).await? {
        last_was_final = matches!(event.body, EventBody::State { state, .. } if state.is_final());
        if let Some(line) = log_line(&event) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    // The final state from the record, when its event is not (yet) stored.
    if record.state.is_final() && !last_was_final {
        let at = time(record.finished_at_ms.unwrap_or(record.submitted_at_ms));
        let _ = write!(text, "{at} job {}", record.state.name());
        if let Some(error) = &record.error {
            let _ = write!(text, ": {} ({})", error.message, error.kind);
        }
        text.push('\n');
    }
    Ok(text)
}

/// An event as a line of the job's log (none for progress).
pub fn log_line(event: &Event) -> Option<String> {
    let at = time(event.at_ms);
    Some(match &event.body {
        EventBody::State { state, error } => match error {
            Some(error) => format!(
                "{at} job {}: {} ({})",
                state.name(),
                error.message,
                error.kind
            ),
            None => format!("{at} job {}", state.name()),
        },
        EventBody::TaskStarted {
            task,
            worker,
            attempt,
            ..
        } => format!("{at} {task} started on {worker} (attempt {attempt})"),
        EventBody::Log { level, message } => format!("{at} [{level}] {message}"),
        EventBody::Refused { reason } => format!("{at} refused: {reason}"),
        EventBody::Progress { .. } => return None,
    })
}

/// Job `id`'s stored events but progress, in order.
async fn events(fleet: &Fleet, id: &str) -> Result<Vec<Event>, FleetError> {
    let names = fleet.names();
    let stream = fleet
        .js
        .get_stream(names.events_stream())
        .await
        .map_err(|e| FleetError::nats("open the events stream", e))?;
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subjects: ["state", "task", "log", "refused"]
                .iter()
                .map(|kind| names.event_subject(id, kind))
                .collect(),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| FleetError::nats(format!("read the events of job {id}"), e))?;
    let mut left = consumer.cached_info().num_pending;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| FleetError::nats(format!("read the events of job {id}"), e))?;
    let mut events = Vec::new();
    while left > 0 {
        let message = match tokio::time::timeout(EVENT_WAIT, messages.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => {
                return Err(FleetError::nats(format!("read the events of job {id}"), e));
            }
            // Purged or expired under the reader: what was read is the log.
            Ok(None) | Err(_) => break,
        };
        left = message.info().map_or(0, |i| i.pending);
        if let Ok(event) = serde_json::from_slice::<Event>(&message.payload) {
            events.push(event);
        }
    }
    Ok(events)
}

/// RFC 3339 UTC with milliseconds.
fn time(ms: u64) -> humantime::Rfc3339Timestamp {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms))
}
