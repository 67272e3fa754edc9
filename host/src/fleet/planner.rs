//! The planner: takes submitted jobs off the jobs stream, creates their
//! records (an id is unique while its record lives), runs [`plan`] on the
//! inputs copied from the media store, stores the plan beside the job's
//! media and queues its segment and audio tasks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{self, PullConsumer};
use async_nats::jetstream::{self, AckKind};
use framejet_spec::fleet::{
    EventBody, JobFailure, JobRecord, JobState, JobSubmission, Task, TaskKind, TaskRecord,
    TaskState, WIRE_VERSION, WorkerStatus, is_token,
};
use framejet_spec::{JobSpec, StepSpec};
use futures_util::StreamExt;
use tokio::sync::watch;

use crate::job::{DEFAULT_ROUTER, DEFAULT_SEGMENTER, JobError, PlanOptions, plan};
use crate::plugin::PluginRegistry;

use super::media::{
    MEDIA_SCHEME, MediaCache, job_key, media_name, pushed_plugin, safe_file_name, sha256_hex,
};
use super::records::Created;
use super::{Fleet, FleetError, now_ms};

/// Runs a planner until SIGTERM or Ctrl-C.
pub async fn run_planner(
    fleet: Fleet,
    registry: Arc<PluginRegistry>,
    encoder_threads: usize,
    cache_dir: Option<PathBuf>,
) -> Result<(), FleetError> {
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        super::worker::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let temp;
    let dir = match cache_dir {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new()
                .prefix("framejet-planner-")
                .tempdir()
                .map_err(|e| FleetError::io(std::env::temp_dir(), e))?;
            temp.path().to_path_buf()
        }
    };
    serve(fleet, registry, encoder_threads, dir, stop).await
}

/// The planner loop, until `stop` turns true.
pub(crate) async fn serve(
    fleet: Fleet,
    registry: Arc<PluginRegistry>,
    encoder_threads: usize,
    cache_dir: PathBuf,
    mut stop: watch::Receiver<bool>,
) -> Result<(), FleetError> {
    let names = fleet.names();
    let stream = fleet
        .js
        .get_stream(names.jobs_stream())
        .await
        .map_err(|e| FleetError::nats("open the jobs stream", e))?;
    let consumer: PullConsumer = stream
        .get_or_create_consumer(
            "planner",
            consumer::pull::Config {
                durable_name: Some("planner".into()),
                filter_subject: names.submit_subject(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: fleet.settings.ack_wait,
                max_deliver: i64::from(fleet.settings.max_attempts) + 1,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| FleetError::nats("set up the planner's consumer", e))?;
    let planner = Planner {
        fleet: fleet.clone(),
        registry,
        encoder_threads,
        cache: MediaCache::new(cache_dir.join("media")),
        cache_dir,
    };
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let batch = consumer
            .batch()
            .max_messages(1)
            .expires(Duration::from_secs(1))
            .messages();
        let mut batch = tokio::select! {
            batch = batch => match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!("planner: pulling jobs: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            _ = super::worker::stopped(&mut stop) => return Ok(()),
        };
        while let Some(message) = batch.next().await {
            match message {
                Ok(message) => planner.handle(message).await,
                Err(e) => {
                    // A server going away as the fleet stops is no news.
                    if !*stop.borrow() {
                        tracing::warn!("planner: pulling jobs: {e}");
                    }
                    break;
                }
            }
        }
    }
}

struct Planner {
    fleet: Fleet,
    registry: Arc<PluginRegistry>,
    encoder_threads: usize,
    cache: MediaCache,
    cache_dir: PathBuf,
}

/// The most an input fetched from a URL may weigh.
const MAX_URL_BYTES: u64 = 64 << 30;

/// Whether a spec path is an `http(s)://` URL.
fn is_url(path: &str) -> bool {
    path.starts_with("http://") || path.starts_with("https://")
}

/// Downloads `url` into `path`. A server's refusal (4xx) is the input's
/// fault; a connection that fails or a server error (5xx) may pass.
fn download(url: &str, path: &std::path::Path) -> Result<(), FleetError> {
    let input = || std::path::PathBuf::from(url);
    let response = match ureq::get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::StatusCode(code)) if (400..500).contains(&code) => {
            return Err(FleetError::Job(JobError::Input {
                input: input(),
                message: format!("the server answered HTTP {code}"),
            }));
        }
        Err(e) => {
            return Err(FleetError::io(
                input(),
                std::io::Error::other(format!("fetching failed: {e}")),
            ));
        }
    };
    let mut body = response
        .into_body()
        .into_with_config()
        .limit(MAX_URL_BYTES)
        .reader();
    let mut file = std::fs::File::create(path).map_err(|e| FleetError::io(path, e))?;
    std::io::copy(&mut body, &mut file).map_err(|e| FleetError::io(input(), e))?;
    Ok(())
}

impl Planner {
    async fn handle(&self, message: jetstream::Message) {
        let delivered = message
            .info()
            .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
            .unwrap_or(1);
        let submission = match parse_submission(&message.payload) {
            Ok(s) => s,
            Err((id, reason)) => {
                tracing::warn!("planner: refused a submission: {reason}");
                if let Some(id) = id {
                    self.fleet.emit(&id, EventBody::Refused { reason }).await;
                }
                settle(&message, AckKind::Term).await;
                return;
            }
        };
        let id = submission.id.clone();
        let record = match self.record_for(submission).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                settle(&message, AckKind::Ack).await;
                return;
            }
            Err(e) => {
                tracing::warn!("planner: job {id}: {e}");
                let kind = if e.retryable() {
                    AckKind::Nak(Some(Duration::from_secs(1)))
                } else {
                    AckKind::Term
                };
                settle(&message, kind).await;
                return;
            }
        };
        if record.state == JobState::Running {
            // A planner died after planning; queue what is not done.
            if delivered > 1 {
                match self.queue_tasks(&record).await {
                    Ok(()) => settle(&message, AckKind::Ack).await,
                    Err(_) => settle(&message, AckKind::Nak(Some(Duration::from_secs(1)))).await,
                }
            } else {
                settle(&message, AckKind::Ack).await;
            }
            return;
        }
        if delivered > self.fleet.settings.max_attempts {
            let reason = format!(
                "planning was started {} times and never finished: the planner died or hung each time",
                self.fleet.settings.max_attempts
            );
            self.fail(&id, "max_deliveries", reason, true).await;
            settle(&message, AckKind::Term).await;
            return;
        }
        tracing::info!("planner: planning job {id}");
        match self.plan_job(record).await {
            Ok(()) => settle(&message, AckKind::Ack).await,
            Err(e) if e.retryable() && delivered < self.fleet.settings.max_attempts => {
                tracing::warn!("planner: job {id}: {e}; trying again");
                settle(
                    &message,
                    AckKind::Nak(Some(Duration::from_secs(1 << delivered.min(5)))),
                )
                .await;
            }
            Err(e) => {
                tracing::warn!("planner: job {id} failed: {e}");
                self.fail(&id, e.kind(), e.to_string(), e.retryable()).await;
                settle(&message, AckKind::Term).await;
            }
        }
    }

    /// Fails job `id` in planning, unless it has ended already.
    async fn fail(&self, id: &str, kind: &str, message: String, retryable: bool) {
        let failure = JobFailure {
            kind: kind.to_string(),
            message,
            retryable,
            task: Some("plan".into()),
        };
        if let Err(e) = self
            .fleet
            .end_job(id, JobState::Failed, Some(failure))
            .await
        {
            tracing::warn!("planner: job {id}: could not record the failure: {e}");
        }
    }

    /// The record to plan: a new one, or the one a planner that died left
    /// queued or planning. `None` for a job that is past planning (a
    /// repeat). A different spec under the same id is refused.
    async fn record_for(&self, submission: JobSubmission) -> Result<Option<JobRecord>, FleetError> {
        let record = new_record(submission)?;
        let id = record.id.clone();
        match self.fleet.create_record(record.clone()).await? {
            Created::New(record) => Ok(Some(record)),
            Created::Exists(existing) if existing.spec_digest != record.spec_digest => {
                let reason = format!(
                    "job id `{id}` is in use by another spec; choose another id, or wait until job `{id}` expires"
                );
                self.fleet
                    .emit(
                        &id,
                        EventBody::Refused {
                            reason: reason.clone(),
                        },
                    )
                    .await;
                Err(FleetError::Refused(reason))
            }
            Created::Exists(existing) => Ok(match existing.state {
                JobState::Queued | JobState::Planning | JobState::Running => Some(existing),
                _ => None,
            }),
        }
    }

    async fn plan_job(&self, record: JobRecord) -> Result<(), FleetError> {
        let id = record.id.clone();
        let (_, changed) = self
            .fleet
            .update_record(&id, |r| {
                (!r.state.is_final()).then(|| {
                    r.state = JobState::Planning;
                })
            })
            .await?;
        if changed.is_none() {
            return Ok(());
        }
        self.fleet
            .emit(
                &id,
                EventBody::State {
                    state: JobState::Planning,
                    error: None,
                },
            )
            .await;

        // The inputs, copied here; planning reads local files.
        let mut spec = record.spec.clone();
        spec.id = Some(id.clone());
        if spec.output.container.is_none() {
            spec.output.container = Some("mp4".into());
        }
        // URLs are fetched once into the media store and named from there on.
        let mut urls = Vec::new();
        spec.for_each_path(|p| {
            if let Some(url) = p.to_str().filter(|s| is_url(s)) {
                urls.push(url.to_string());
            }
        });
        urls.sort();
        urls.dedup();
        let mut fetched = HashMap::new();
        for url in urls {
            let name = self.fetch_url(&url).await?;
            fetched.insert(url, name);
        }
        spec.for_each_path(|p| {
            if let Some(name) = p.to_str().and_then(|s| fetched.get(s)) {
                *p = PathBuf::from(format!("{MEDIA_SCHEME}{name}"));
            }
        });
        let mut names = Vec::new();
        let mut bad = None;
        spec.for_each_path(|p| match media_name(p) {
            Some(name) => names.push(name.to_string()),
            None => {
                bad.get_or_insert_with(|| p.display().to_string());
            }
        });
        if let Some(path) = bad {
            return Err(FleetError::Job(JobError::Input {
                input: path.into(),
                message: format!(
                    "a fleet job names its files as `{MEDIA_SCHEME}NAME`, objects of the media store (framejet submit uploads local files), or as http(s) URLs"
                ),
            }));
        }
        let mut local_of = HashMap::new();
        for name in names {
            let path = self.cache.fetch(&self.fleet, &name).await?;
            local_of.insert(name, path);
        }
        let name_of: HashMap<PathBuf, String> = local_of
            .iter()
            .map(|(name, path)| (path.clone(), name.clone()))
            .collect();
        spec.for_each_path(|p| {
            if let Some(local) = media_name(p).and_then(|n| local_of.get(n)) {
                *p = local.clone();
            }
        });

        let registry = self.registry_for(&spec).await?;
        let options = PlanOptions {
            parallel_segments: self.fleet_slots().await,
            encoder_threads: self.encoder_threads,
            one_machine: false,
        };
        let mut plan = tokio::task::spawn_blocking(move || plan(spec, &registry, &options))
            .await
            .map_err(|e| {
                FleetError::Job(JobError::Media {
                    context: "plan".into(),
                    message: format!("planning panicked: {e}"),
                })
            })??;

        // The plan names media, not this machine's copies.
        let to_name = |p: &mut PathBuf| {
            if let Some(name) = name_of.get(p.as_path()) {
                *p = PathBuf::from(format!("{MEDIA_SCHEME}{name}"));
            }
        };
        plan.spec.for_each_path(to_name);
        for item in &mut plan.items {
            to_name(&mut item.src);
        }
        let json = plan.to_json().map_err(|e| FleetError::Job(e.into()))?;
        let plan_ref = self
            .fleet
            .put_bytes(
                &self.fleet.media,
                &job_key(&id, "plan.json"),
                json.as_bytes(),
            )
            .await?;

        let segments = plan.segments.len();
        let total_frames = plan.total_frames();
        let marks: Vec<String> = plan
            .marks
            .iter()
            .map(|m| {
                format!(
                    "inpaint mark of steps[{}] on input {}{}, estimated from frames across it: {}",
                    m.step,
                    m.item,
                    plan.place_name(m.step, m.item, m.place),
                    m.describe()
                )
            })
            .collect();
        let queue = plan.route.queue.clone();
        let capabilities = plan.route.capabilities.clone();
        let min_memory = plan.route.min_memory_mib;
        let (record, changed) = self
            .fleet
            .update_record(&id, |r| {
                if r.state.is_final() {
                    return None;
                }
                r.state = JobState::Running;
                r.queue = Some(queue.clone());
                r.plan = Some(plan_ref.clone());
                r.total_frames = total_frames;
                r.segments = vec![TaskRecord::default(); segments];
                r.audio = Some(TaskRecord::default());
                r.started_at_ms = Some(now_ms());
                Some(())
            })
            .await?;
        if changed.is_none() {
            // Cancelled while planning.
            return Ok(());
        }
        for m in &marks {
            self.fleet
                .emit(
                    &id,
                    EventBody::Log {
                        level: "info".to_string(),
                        message: m.clone(),
                    },
                )
                .await;
        }
        self.queue_tasks_with(&record, &capabilities, min_memory)
            .await?;
        self.fleet
            .emit(
                &id,
                EventBody::State {
                    state: JobState::Running,
                    error: None,
                },
            )
            .await;
        tracing::info!("planner: job {id}: {segments} segments on queue {queue}");
        Ok(())
    }

    async fn queue_tasks(&self, record: &JobRecord) -> Result<(), FleetError> {
        // Capabilities live in the plan; read them back.
        let Some(plan_ref) = &record.plan else {
            return Ok(());
        };
        let bytes = self
            .fleet
            .get_bytes(&self.fleet.media, &plan_ref.key)
            .await?;
        let plan = crate::job::Plan::from_json(&String::from_utf8_lossy(&bytes))
            .map_err(|e| FleetError::Job(e.into()))?;
        self.queue_tasks_with(record, &plan.route.capabilities, plan.route.min_memory_mib)
            .await
    }

    /// Publishes the segment and audio tasks not done yet; message ids make
    /// a repeat within the dedup window a no-op.
    async fn queue_tasks_with(
        &self,
        record: &JobRecord,
        capabilities: &[String],
        min_memory_mib: Option<u64>,
    ) -> Result<(), FleetError> {
        let id = &record.id;
        let queue = record.queue.clone().unwrap_or_else(|| "default".into());
        let names = self.fleet.names();
        // The audio first: it runs beside the segments, not after them.
        let mut tasks = Vec::new();
        if record
            .audio
            .as_ref()
            .is_some_and(|a| !matches!(a.state, TaskState::Done | TaskState::Skipped))
        {
            tasks.push(TaskKind::Audio);
        }
        tasks.extend(
            record
                .segments
                .iter()
                .enumerate()
                .filter(|(_, s)| s.state != TaskState::Done)
                .map(|(index, _)| TaskKind::Segment { index }),
        );
        for kind in tasks {
            let task = Task {
                version: WIRE_VERSION,
                job_id: id.clone(),
                kind,
                plan: record.plan.clone(),
                capabilities: capabilities.to_vec(),
                min_memory_mib,
            };
            let payload =
                serde_json::to_vec(&task).map_err(|e| FleetError::malformed("task", e))?;
            let msg_id = super::media::task_msg_id(id, record.plan.as_ref(), kind);
            self.fleet
                .publish(
                    names.task_subject(&queue, record.priority, kind.subject_token()),
                    Some(&msg_id),
                    payload,
                )
                .await?;
        }
        Ok(())
    }

    /// Downloads `url` once into the media store, as
    /// `inputs/url/<sha256 of the URL>/<its file name>`; returns the name.
    /// A URL fetched before (and not expired) is not fetched again.
    async fn fetch_url(&self, url: &str) -> Result<String, FleetError> {
        let file_name = safe_file_name(
            url.split(['?', '#'])
                .next()
                .and_then(|p| p.rsplit('/').next())
                .filter(|n| !n.is_empty()),
        );
        let name = format!(
            "inputs/url/{}/{file_name}",
            &sha256_hex(url.as_bytes())[..32]
        );
        if self.fleet.media.info(&name).await.is_ok_and(|i| !i.deleted) {
            return Ok(name);
        }
        tracing::info!("planner: fetching {url}");
        let dir = self.cache_dir.join("downloads");
        std::fs::create_dir_all(&dir).map_err(|e| FleetError::io(&dir, e))?;
        let file = tempfile::NamedTempFile::new_in(&dir).map_err(|e| FleetError::io(&dir, e))?;
        let (url_owned, path) = (url.to_string(), file.path().to_path_buf());
        tokio::task::spawn_blocking(move || download(&url_owned, &path))
            .await
            .map_err(|e| FleetError::Refused(format!("fetching {url}: {e}")))??;
        self.fleet
            .put_file(&self.fleet.media, &name, file.path())
            .await?;
        Ok(name)
    }

    /// A registry in which the plugins pushed to the fleet under the names
    /// the spec uses come first.
    async fn registry_for(&self, spec: &JobSpec) -> Result<PluginRegistry, FleetError> {
        let scoped = self.registry.scoped();
        let mut names: Vec<String> = vec![
            spec.route
                .as_ref()
                .map_or(DEFAULT_ROUTER.to_string(), |s| s.plugin.clone()),
            spec.segment
                .as_ref()
                .map_or(DEFAULT_SEGMENTER.to_string(), |s| s.plugin.clone()),
        ];
        for step in &spec.steps {
            if let StepSpec::Plugin(p) = step {
                names.push(p.plugin.clone());
            }
        }
        for name in names {
            if name.contains('/') || name.ends_with(".wasm") {
                continue;
            }
            let key = format!("plugins/{name}");
            let plain = name.split('@').next().unwrap_or(&name).to_string();
            if let Some(plugin) =
                pushed_plugin(&self.fleet, self.registry.runtime(), &plain, &key).await?
            {
                scoped.pin(&name, plugin);
            } else if name.contains('@') {
                return Err(FleetError::Missing(format!(
                    "plugin `{name}` is not in the plugins store (framejet plugin push)"
                )));
            }
        }
        Ok(scoped)
    }

    /// The slots of the workers beating now (at least 1).
    async fn fleet_slots(&self) -> usize {
        let mut total = 0;
        if let Ok(mut keys) = self.fleet.workers.keys().await {
            while let Some(Ok(key)) = keys.next().await {
                if let Ok(Some(value)) = self.fleet.workers.get(&key).await
                    && let Ok(status) = serde_json::from_slice::<WorkerStatus>(&value)
                {
                    total += status.slots;
                }
            }
        }
        total.max(1)
    }
}

async fn settle(message: &jetstream::Message, kind: AckKind) {
    if let Err(e) = message.ack_with(kind).await {
        tracing::warn!("planner: settling a submission: {e}");
    }
}

/// The submission, or its id (if readable) and why it is refused.
fn parse_submission(payload: &[u8]) -> Result<JobSubmission, (Option<String>, String)> {
    let id = || {
        serde_json::from_slice::<serde_json::Value>(payload)
            .ok()
            .and_then(|v| v.get("id")?.as_str().map(str::to_string))
            .filter(|id| is_token(id))
    };
    let submission: JobSubmission = serde_json::from_slice(payload)
        .map_err(|e| (id(), format!("malformed job submission: {e}")))?;
    if submission.version != WIRE_VERSION {
        return Err((
            id(),
            format!(
                "job submission of wire version {}; this planner reads version {WIRE_VERSION}",
                submission.version
            ),
        ));
    }
    if !is_token(&submission.id) {
        return Err((
            None,
            format!(
                "job id `{}`: use letters, digits, `-` and `_` only",
                submission.id
            ),
        ));
    }
    if let Some(spec_id) = &submission.spec.id
        && spec_id != &submission.id
    {
        return Err((
            id(),
            format!(
                "the submission's id `{}` and its spec's id `{spec_id}` differ",
                submission.id
            ),
        ));
    }
    Ok(submission)
}

/// The record of a job just submitted.
pub(crate) fn new_record(submission: JobSubmission) -> Result<JobRecord, FleetError> {
    let JobSubmission { id, mut spec, .. } = submission;
    spec.id = Some(id.clone());
    let now = now_ms();
    Ok(JobRecord {
        version: WIRE_VERSION,
        state: JobState::Queued,
        priority: spec.priority,
        queue: None,
        spec_digest: spec_digest(&spec)?,
        owner: None,
        webhook: None,
        submitted_at_ms: now,
        started_at_ms: None,
        finished_at_ms: None,
        deadline_ms: spec
            .timeout_s
            .map(|s| now.saturating_add(s.saturating_mul(1000))),
        plan: None,
        total_frames: 0,
        segments: Vec::new(),
        audio: None,
        finalize: None,
        output: None,
        error: None,
        id,
        spec,
    })
}

/// SHA-256 (hex) of the spec's JSON.
pub(crate) fn spec_digest(spec: &JobSpec) -> Result<String, FleetError> {
    let json = serde_json::to_vec(spec).map_err(|e| FleetError::malformed("spec", e))?;
    Ok(sha256_hex(&json))
}
