//! The client side of the fleet: submit a job (uploading its local files),
//! follow its events, fetch its output, cancel it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use framejet_spec::fleet::{
    Event, EventBody, JobFailure, JobRecord, JobState, JobSubmission, MaskFileRecord, WIRE_VERSION,
    is_token,
};
use framejet_spec::{JobSpec, is_remote};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::media::{MEDIA_SCHEME, is_object_name, job_key, safe_file_name};
use super::planner::new_record;
use super::records::Created;
use super::{Fleet, FleetError};

/// How to submit.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    /// The job's id (default: the spec's, else a new one).
    pub id: Option<String>,
    /// Who submits it (the gateway's token owner), kept in the record.
    pub owner: Option<String>,
    /// Where the gateway POSTs the final record (see `gateway::webhooks`).
    pub webhook: Option<String>,
}

/// What [`submit_job`] did.
#[derive(Debug)]
pub struct Submitted {
    /// The job's record as it stands.
    pub record: JobRecord,
    /// Whether this call created the job (not the same id and spec again).
    pub created: bool,
}

/// Uploads the spec's local files to the media store (each once: they are
/// named by their content's digest), creates the job's record and publishes
/// the job. The same id with the same spec returns the existing job; with
/// another spec it is refused.
pub async fn submit_job(
    fleet: &Fleet,
    mut spec: JobSpec,
    options: &SubmitOptions,
) -> Result<Submitted, FleetError> {
    let id = options
        .id
        .clone()
        .or_else(|| spec.id.clone())
        .unwrap_or_else(crate::job::new_job_id);
    if !is_token(&id) {
        return Err(FleetError::Refused(format!(
            "job id `{id}`: use letters, digits, `-` and `_` only"
        )));
    }
    spec.id = Some(id.clone());

    let mut local = Vec::new();
    spec.for_each_path(|p| {
        if !is_remote(p) {
            local.push(p.clone());
        }
    });
    let mut names: HashMap<PathBuf, String> = HashMap::new();
    for path in local {
        if names.contains_key(&path) {
            continue;
        }
        let name = upload_input(fleet, &path).await?;
        names.insert(path, name);
    }
    spec.for_each_path(|p| {
        if let Some(name) = names.get(p.as_path()) {
            *p = PathBuf::from(format!("{MEDIA_SCHEME}{name}"));
        }
    });

    let submission = JobSubmission {
        version: WIRE_VERSION,
        id: id.clone(),
        spec,
    };
    let payload =
        serde_json::to_vec(&submission).map_err(|e| FleetError::malformed("submission", e))?;
    let mut mine = new_record(submission)?;
    mine.owner = options.owner.clone();
    mine.webhook = options.webhook.clone();
    // The digest in the message id lets a purged id be used again at once
    // with another spec; the record's create-only write keeps ids unique.
    let msg_id = format!("{id}.{}", &mine.spec_digest[..16]);
    let (record, created) = match fleet.create_record(mine.clone()).await? {
        Created::New(record) => (record, true),
        Created::Exists(existing) if existing.spec_digest != mine.spec_digest => {
            return Err(FleetError::Refused(format!(
                "job id `{id}` is in use by another spec; choose another id"
            )));
        }
        // Still queued: its submission may never have reached the stream
        // (a client that died in between); publishing again is harmless.
        Created::Exists(existing) if existing.state == JobState::Queued => (existing, false),
        Created::Exists(existing) => {
            return Ok(Submitted {
                record: existing,
                created: false,
            });
        }
    };
    fleet
        .publish(fleet.names().submit_subject(), Some(&msg_id), payload)
        .await?;
    Ok(Submitted { record, created })
}

/// Uploads a local file as `inputs/<sha256>/<file name>` unless an object
/// of that name is there; returns the name.
async fn upload_input(fleet: &Fleet, path: &Path) -> Result<String, FleetError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| FleetError::io(path, e))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| FleetError::io(path, e))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let file_name = safe_file_name(path.file_name().and_then(|n| n.to_str()));
    let name = format!("inputs/{hex}/{file_name}");
    if !is_object_name(&name) {
        return Err(FleetError::Refused(format!(
            "{}: cannot name it in the media store",
            path.display()
        )));
    }
    if fleet.media.info(&name).await.is_ok_and(|i| !i.deleted) {
        return Ok(name);
    }
    fleet.put_file(&fleet.media, &name, path).await?;
    Ok(name)
}

/// What [`follow`] reports as a job goes.
#[derive(Debug, Clone)]
pub enum FollowUpdate {
    State(JobState),
    /// Output frames done of the job's total.
    Progress {
        frames: u64,
        total: u64,
    },
    Log {
        level: String,
        message: String,
    },
    Refused(String),
}

/// Follows job `id`'s events from its start until it ends; returns its
/// final record. The record is also read now and then, so a follower that
/// missed events still sees the end.
pub async fn follow(
    fleet: &Fleet,
    id: &str,
    mut on_update: impl FnMut(FollowUpdate),
) -> Result<JobRecord, FleetError> {
    let mut progress = FollowProgress::default();
    follow_events(fleet, id, |event| {
        if let Some(update) = progress.update(event.body) {
            on_update(update);
        }
    })
    .await
}

/// Job `id`'s events from its start until it ends, as they come; returns
/// its final record. The record is also read every second, so a follower
/// that missed events still sees the end (as a state event made from it).
pub async fn follow_events(
    fleet: &Fleet,
    id: &str,
    mut on_event: impl FnMut(Event),
) -> Result<JobRecord, FleetError> {
    let stream = fleet
        .js
        .get_stream(fleet.names().events_stream())
        .await
        .map_err(|e| FleetError::nats("open the events stream", e))?;
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: fleet.names().job_events(id),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| FleetError::nats("follow the job's events", e))?;
    let mut events = consumer
        .messages()
        .await
        .map_err(|e| FleetError::nats("follow the job's events", e))?;
    // The record is the truth: it is read every second whatever the
    // events do, so a stalled or erring events consumer cannot hide the
    // job's end.
    let mut backstop = tokio::time::interval(Duration::from_secs(1));
    backstop.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = tokio::select! {
            next = events.next() => next,
            _ = backstop.tick() => {
                if let Some((record, _)) = fleet.record(id).await?
                    && record.state.is_final()
                {
                    on_event(Event {
                        version: WIRE_VERSION,
                        job_id: id.to_string(),
                        at_ms: record.finished_at_ms.unwrap_or_else(super::now_ms),
                        body: EventBody::State { state: record.state, error: record.error.clone() },
                    });
                    return Ok(record);
                }
                continue;
            }
        };
        match next {
            Some(Ok(message)) => {
                let Ok(event) = serde_json::from_slice::<Event>(&message.payload) else {
                    continue;
                };
                let ended = match &event.body {
                    EventBody::State { state, .. } if state.is_final() => Some(Ok(())),
                    EventBody::Refused { reason } => Some(Err(FleetError::Refused(reason.clone()))),
                    _ => None,
                };
                on_event(event);
                match ended {
                    Some(Ok(())) => return fleet.job_record(id).await,
                    Some(Err(e)) => return Err(e),
                    None => {}
                }
            }
            Some(Err(e)) => tracing::debug!("events: {e}"),
            None => {
                return Err(FleetError::Missing("the events stream ended".to_string()));
            }
        }
    }
}

/// What a follower of a job's events reports, with the output frames
/// summed over the segments; the fleet's and the gateway's followers share it.
#[derive(Debug, Default)]
pub(crate) struct FollowProgress {
    segment_frames: BTreeMap<usize, u64>,
}

impl FollowProgress {
    /// The update an event makes, if it makes one.
    pub(crate) fn update(&mut self, event: EventBody) -> Option<FollowUpdate> {
        Some(match event {
            EventBody::State { state, .. } => FollowUpdate::State(state),
            EventBody::Progress {
                segment,
                frames,
                total_frames,
                ..
            } => {
                self.segment_frames.insert(segment, frames);
                FollowUpdate::Progress {
                    frames: self.segment_frames.values().sum(),
                    total: total_frames,
                }
            }
            EventBody::Log { level, message } => FollowUpdate::Log { level, message },
            EventBody::Refused { reason } => FollowUpdate::Refused(reason),
            EventBody::TaskStarted { .. } => return None,
        })
    }
}

/// Downloads a finished job's output to `path`, and the mask PNGs it wrote
/// beside it under the names a local run gives them
/// ([`mask_files`](crate::job::mask_files)). An existing file is replaced
/// only when `overwrite` says so; none is written when one would be.
pub async fn download_output(
    fleet: &Fleet,
    record: &JobRecord,
    path: &Path,
    overwrite: bool,
) -> Result<(), FleetError> {
    let Some(output) = &record.output else {
        return Err(FleetError::Missing(format!(
            "job `{}` has no output (it is {})",
            record.id,
            record.state.name()
        )));
    };
    let mut files = vec![(output.key.as_str(), path.to_path_buf())];
    for (mask, local) in mask_destinations(record, path)? {
        files.push((mask.key.as_str(), local));
    }
    if !overwrite && let Some((_, taken)) = files.iter().find(|(_, local)| local.exists()) {
        return Err(FleetError::Refused(format!(
            "{} exists; pass -y/--overwrite to replace it",
            taken.display()
        )));
    }
    for (key, local) in &files {
        fleet.get_file(&fleet.media, key, local).await?;
    }
    Ok(())
}

/// Where each mask PNG job `record` lists goes when its output goes to
/// `output`: the names `framejet run` gives them.
pub(crate) fn mask_destinations<'r>(
    record: &'r JobRecord,
    output: &Path,
) -> Result<Vec<(&'r MaskFileRecord, PathBuf)>, FleetError> {
    let names = crate::job::mask_files(&record.spec, output);
    let masks = record.output.iter().flat_map(|o| &o.masks);
    masks
        .map(|mask| {
            names
                .iter()
                .find(|(step, item, _)| (*step, *item) == (mask.step, mask.item))
                .map(|(_, _, local)| (mask, local.clone()))
                .ok_or_else(|| {
                    FleetError::Missing(format!(
                        "job `{}` lists a mask of steps[{}] on input {} that its spec does not ask for",
                        record.id, mask.step, mask.item
                    ))
                })
        })
        .collect()
}

/// Cancels job `id`: its record goes to `cancelled`, workers stop its
/// running tasks between frames and drop the rest. Returns the record.
pub async fn cancel_job(fleet: &Fleet, id: &str) -> Result<JobRecord, FleetError> {
    let record = fleet.job_record(id).await?;
    if record.state.is_final() {
        return Ok(record);
    }
    fleet.end_job(id, JobState::Cancelled, None).await?;
    fleet.job_record(id).await
}

/// Deletes job `id`'s data: cancels it if it is still going, then removes
/// its objects (plan, segments, output), its events and its record. Inputs
/// stay: they are named by content and may be shared with other jobs; they
/// expire with the retention.
pub async fn purge_job(fleet: &Fleet, id: &str) -> Result<(), FleetError> {
    if let Some((record, _)) = fleet.record(id).await?
        && !record.state.is_final()
    {
        fleet.end_job(id, JobState::Cancelled, None).await?;
    }
    let prefix = job_key(id, "");
    let mut objects = fleet
        .media
        .list()
        .await
        .map_err(|e| FleetError::nats("list the media store", e))?;
    let mut names = Vec::new();
    while let Some(info) = objects.next().await {
        let info = info.map_err(|e| FleetError::nats("list the media store", e))?;
        if info.name.starts_with(&prefix) {
            names.push(info.name);
        }
    }
    for name in names {
        fleet
            .media
            .delete(&name)
            .await
            .map_err(|e| FleetError::nats(format!("delete {name}"), e))?;
    }
    let events = fleet
        .js
        .get_stream(fleet.names().events_stream())
        .await
        .map_err(|e| FleetError::nats("open the events stream", e))?;
    events
        .purge()
        .filter(fleet.names().job_events(id))
        .await
        .map_err(|e| FleetError::nats("purge the job's events", e))?;
    fleet
        .jobs
        .purge(id)
        .await
        .map_err(|e| FleetError::nats(format!("delete the record of job {id}"), e))?;
    Ok(())
}

/// What [`purge_queue`] did.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct PurgedQueue {
    pub queue: String,
    /// Tasks removed: waiting, and in flight (their workers stop them).
    pub tasks: u64,
    /// The jobs those tasks belonged to, now failed (`error.kind`: `purged`).
    pub failed_jobs: Vec<String>,
}

/// Removes every task of `queue` (at every priority) from the work stream
/// and fails their jobs, so that none is left waiting on a task that will
/// never run. Tasks published after the purge began are kept.
pub async fn purge_queue(fleet: &Fleet, queue: &str) -> Result<PurgedQueue, FleetError> {
    use async_nats::jetstream::stream::LastRawMessageErrorKind;
    if !is_token(queue) {
        return Err(FleetError::Refused(format!(
            "queue `{queue}`: use letters, digits, `-` and `_` only"
        )));
    }
    let names = fleet.names();
    let mut stream = fleet.work_stream().await?;
    let last = stream
        .info()
        .await
        .map_err(|e| FleetError::nats("read the work stream", e))?
        .state
        .last_sequence;
    let subjects = names.queue_all_subjects(queue);
    // The tasks up to `last`, read one by one (a work-queue stream takes
    // no second consumer on its subjects) for the jobs they belong to.
    let (mut tasks, mut jobs, mut next) = (0u64, std::collections::BTreeSet::new(), 1u64);
    while next <= last {
        let message = match stream
            .get_first_raw_message_by_subject(&subjects, next)
            .await
        {
            Ok(message) => message,
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => break,
            Err(e) => {
                return Err(FleetError::nats(
                    format!("read the tasks of queue {queue}"),
                    e,
                ));
            }
        };
        if message.sequence > last {
            break;
        }
        next = message.sequence + 1;
        tasks += 1;
        if let Ok(task) = serde_json::from_slice::<framejet_spec::fleet::Task>(&message.payload) {
            jobs.insert(task.job_id);
        }
    }
    if tasks == 0 && !queue_has_consumers(fleet, queue).await? {
        return Err(FleetError::Missing(format!(
            "no queue `{queue}`: no worker serves it and no task waits on it"
        )));
    }
    stream
        .purge()
        .filter(&subjects)
        .sequence(last + 1)
        .await
        .map_err(|e| FleetError::nats(format!("purge queue {queue}"), e))?;
    let mut failed_jobs = Vec::new();
    for job in jobs {
        let failure = JobFailure {
            kind: "purged".into(),
            message: format!("queue `{queue}` was purged by an administrator"),
            retryable: true,
            task: None,
        };
        match fleet.end_job(&job, JobState::Failed, Some(failure)).await {
            Ok(true) => failed_jobs.push(job),
            Ok(false) | Err(FleetError::Missing(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(PurgedQueue {
        queue: queue.to_string(),
        tasks,
        failed_jobs,
    })
}

/// Whether a worker ever served `queue` (its consumers exist).
async fn queue_has_consumers(fleet: &Fleet, queue: &str) -> Result<bool, FleetError> {
    let stream = fleet.work_stream().await?;
    let mut consumers = stream.consumer_names();
    while let Some(name) = consumers.next().await {
        let name = name.map_err(|e| FleetError::nats("list the queues", e))?;
        if name.rsplit_once('-').is_some_and(|(q, _)| q == queue) {
            return Ok(true);
        }
    }
    Ok(false)
}
