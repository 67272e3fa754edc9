//! The fleet's wire types: what goes over NATS between clients, the planner
//! and workers. `docs/subjects.md` documents them for clients in any
//! language; `framejet schema --fleet` prints their JSON Schemas.
//!
//! Every message carries `version` ([`WIRE_VERSION`]); a reader refuses a
//! version it does not know rather than guessing.

use serde::{Deserialize, Serialize};

use crate::{JobPriority, JobSpec};

/// The version of every message and record in this module.
pub const WIRE_VERSION: u32 = 1;

/// The names of one fleet's subjects, streams, buckets and stores, all
/// derived from one prefix, so that two fleets (or two tests) share a
/// server without seeing each other. Prefix `fj` gives the documented
/// names: `fj.jobs.submit`, `FJ_WORK`, `fj-jobs`, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetNames {
    prefix: String,
}

/// Why a prefix cannot name a fleet.
#[derive(Debug, thiserror::Error)]
#[error(
    "fleet prefix `{0}`: use 1 to 32 lowercase letters, digits and dashes, starting with a letter"
)]
pub struct BadPrefix(pub String);

impl FleetNames {
    /// The default prefix.
    pub const DEFAULT_PREFIX: &'static str = "fj";

    pub fn new(prefix: &str) -> Result<Self, BadPrefix> {
        let ok = !prefix.is_empty()
            && prefix.len() <= 32
            && prefix.starts_with(|c: char| c.is_ascii_lowercase())
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self {
                prefix: prefix.to_string(),
            })
        } else {
            Err(BadPrefix(prefix.to_string()))
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn stream(&self, name: &str) -> String {
        format!("{}_{name}", self.prefix.to_uppercase().replace('-', "_"))
    }

    /// Stream of submitted jobs (work queue).
    pub fn jobs_stream(&self) -> String {
        self.stream("JOBS")
    }
    /// Stream of segment, audio and finalize tasks (work queue).
    pub fn work_stream(&self) -> String {
        self.stream("WORK")
    }
    /// Stream of job events (limits, hours of retention).
    pub fn events_stream(&self) -> String {
        self.stream("EVENTS")
    }
    /// KV bucket of job records.
    pub fn jobs_bucket(&self) -> String {
        format!("{}-jobs", self.prefix)
    }
    /// KV bucket of worker heartbeats.
    pub fn workers_bucket(&self) -> String {
        format!("{}-workers", self.prefix)
    }
    /// Object store of inputs, plans, segments and outputs.
    pub fn media_store(&self) -> String {
        format!("{}-media", self.prefix)
    }
    /// Object store of pushed plugin components.
    pub fn plugins_store(&self) -> String {
        format!("{}-plugins", self.prefix)
    }

    /// Where jobs are submitted: a [`JobSubmission`].
    pub fn submit_subject(&self) -> String {
        format!("{}.jobs.submit", self.prefix)
    }
    /// Where a [`Task`] of `kind` waits on `queue` at `priority`.
    pub fn task_subject(&self, queue: &str, priority: JobPriority, kind: &str) -> String {
        format!(
            "{}.work.{queue}.{}.{kind}",
            self.prefix,
            priority_name(priority)
        )
    }
    /// Every task subject of `queue` at `priority`.
    pub fn queue_subjects(&self, queue: &str, priority: JobPriority) -> String {
        format!("{}.work.{queue}.{}.*", self.prefix, priority_name(priority))
    }
    /// Every task subject of `queue`, at any priority.
    pub fn queue_all_subjects(&self, queue: &str) -> String {
        format!("{}.work.{queue}.>", self.prefix)
    }
    /// Every task subject.
    pub fn work_subjects(&self) -> String {
        format!("{}.work.>", self.prefix)
    }
    /// The events of job `job` of `kind` (`state`, `progress`, `log`).
    pub fn event_subject(&self, job: &str, kind: &str) -> String {
        format!("{}.events.{job}.{kind}", self.prefix)
    }
    /// Every event of job `job`.
    pub fn job_events(&self, job: &str) -> String {
        format!("{}.events.{job}.*", self.prefix)
    }
    /// Every event subject.
    pub fn events_subjects(&self) -> String {
        format!("{}.events.>", self.prefix)
    }
    /// The durable consumer that serves `queue` at `priority`.
    pub fn consumer(&self, queue: &str, priority: JobPriority) -> String {
        format!("{queue}-{}", priority_name(priority))
    }
}

impl Default for FleetNames {
    fn default() -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_string(),
        }
    }
}

/// `high`, `normal` or `low`.
pub fn priority_name(priority: JobPriority) -> &'static str {
    match priority {
        JobPriority::High => "high",
        JobPriority::Normal => "normal",
        JobPriority::Low => "low",
    }
}

/// Highest first: the order a free slot looks for work in.
pub const PRIORITIES: [JobPriority; 3] = [JobPriority::High, JobPriority::Normal, JobPriority::Low];

/// Whether `name` can be a queue, a job id or a worker id: it becomes a
/// subject token and a key, so letters, digits, `-` and `_` only.
pub fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A job as published on the submit subject. Inputs, assets, masks and
/// logos name objects of the media store as `media:NAME`, or are
/// `http(s)://` URLs the planner fetches once into the media store.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSubmission {
    pub version: u32,
    /// Letters, digits, `-` and `_`; unique while its record exists.
    pub id: String,
    pub spec: JobSpec,
}

/// A stored object and the digest it must have (`SHA-256=` and the
/// URL-safe base64 of the hash, as the object store reports it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    pub key: String,
    pub digest: String,
}

/// One unit of work on a queue.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Task {
    pub version: u32,
    pub job_id: String,
    #[serde(flatten)]
    pub kind: TaskKind,
    /// The job's plan (absent for `noop`).
    #[serde(default)]
    pub plan: Option<ObjectRef>,
    /// What a worker must have to take it (`gpu`, `nvenc`, …).
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub min_memory_mib: Option<u64>,
}

/// What a task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskKind {
    /// Decode, process and encode segment `index` of the plan.
    Segment { index: usize },
    /// Encode the job's audio track (when it cannot be copied).
    Audio,
    /// Join the segments and the audio into the output.
    Finalize,
    /// No media work: goes through the same pull, ack and record path
    /// (for measuring dispatch).
    Noop,
}

impl TaskKind {
    /// The last token of the task's subject.
    pub fn subject_token(&self) -> &'static str {
        match self {
            TaskKind::Segment { .. } => "segment",
            TaskKind::Audio => "audio",
            TaskKind::Finalize => "finalize",
            TaskKind::Noop => "noop",
        }
    }

    /// `segment 3`, `audio`, …
    pub fn describe(&self) -> String {
        match self {
            TaskKind::Segment { index } => format!("segment {index}"),
            other => other.subject_token().to_string(),
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Submitted, waiting for the planner.
    Queued,
    /// Being planned.
    Planning,
    /// Segments (and audio) on the queue or running.
    Running,
    /// Joining the segments.
    Finalizing,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    /// Whether the job will change no more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Planning => "planning",
            JobState::Running => "running",
            JobState::Finalizing => "finalizing",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// Where one task of a job is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    #[default]
    Waiting,
    Running,
    Done,
    /// Not needed (an audio track whose packets are copied).
    Skipped,
    Failed,
}

impl TaskState {
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Waiting => "waiting",
            TaskState::Running => "running",
            TaskState::Done => "done",
            TaskState::Skipped => "skipped",
            TaskState::Failed => "failed",
        }
    }
}

/// A task of a job, as its record keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskRecord {
    pub state: TaskState,
    /// The worker that ran it last.
    #[serde(default)]
    pub worker: Option<String>,
    /// How many times a worker started it.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub started_at_ms: Option<u64>,
    #[serde(default)]
    pub finished_at_ms: Option<u64>,
    /// Frames it produced (segments).
    #[serde(default)]
    pub frames: u64,
    /// Its product in the media store.
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub bytes: u64,
    /// The product's duration (audio), in µs.
    #[serde(default)]
    pub duration_us: Option<i64>,
}

/// Why a job failed, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobFailure {
    /// A stable name: `spec`, `input`, `plugin`, `media`, `io`, `plan`,
    /// `output`, `timed_out`, `max_deliveries`, `malformed_task`, `refused`,
    /// `purged` (its queue was purged).
    pub kind: String,
    pub message: String,
    /// Whether running the job again could help.
    pub retryable: bool,
    /// The task it happened in (`segment 3`, `finalize`), if any.
    #[serde(default)]
    pub task: Option<String>,
}

/// The final output of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputRecord {
    /// Key in the media store.
    pub key: String,
    pub bytes: u64,
    pub frames: u64,
    pub duration_us: i64,
    /// The container's file extension (`mp4`, `mkv`, `webm`, `mov`).
    pub extension: String,
    /// The mask PNGs of inpaint steps with `write_mask`, one per input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masks: Vec<MaskFileRecord>,
}

/// A mask PNG a job wrote beside its output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskFileRecord {
    /// Index of the inpaint step in the spec.
    pub step: usize,
    /// Index of the input.
    pub item: usize,
    /// Key in the media store.
    pub key: String,
}

/// A job's record in the jobs bucket, under its id. Written with
/// compare-and-set, so concurrent workers never lose each other's updates.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobRecord {
    pub version: u32,
    pub id: String,
    pub state: JobState,
    pub priority: JobPriority,
    /// The queue the router chose (once planned).
    #[serde(default)]
    pub queue: Option<String>,
    /// SHA-256 (hex) of the submitted spec's JSON: a resubmission with the
    /// same id must have the same digest.
    pub spec_digest: String,
    pub spec: JobSpec,
    /// Who submitted it through the HTTP gateway (its token's owner); none
    /// for a job published on NATS directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Where the gateway POSTs the final record once the job ends (given
    /// with `POST /v1/jobs?webhook=URL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    pub submitted_at_ms: u64,
    #[serde(default)]
    pub started_at_ms: Option<u64>,
    #[serde(default)]
    pub finished_at_ms: Option<u64>,
    /// `submitted_at_ms + timeout_s`, enforced by every worker.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    #[serde(default)]
    pub plan: Option<ObjectRef>,
    /// Output frames in the whole job.
    #[serde(default)]
    pub total_frames: u64,
    #[serde(default)]
    pub segments: Vec<TaskRecord>,
    #[serde(default)]
    pub audio: Option<TaskRecord>,
    #[serde(default)]
    pub finalize: Option<TaskRecord>,
    #[serde(default)]
    pub output: Option<OutputRecord>,
    #[serde(default)]
    pub error: Option<JobFailure>,
}

impl JobRecord {
    /// Output frames of the segments done so far.
    pub fn frames_done(&self) -> u64 {
        self.segments
            .iter()
            .filter(|s| s.state == TaskState::Done)
            .map(|s| s.frames)
            .sum()
    }

    /// Whether every segment and the audio are done, so finalize can run.
    pub fn ready_to_finalize(&self) -> bool {
        !self.segments.is_empty()
            && self.segments.iter().all(|s| s.state == TaskState::Done)
            && self
                .audio
                .as_ref()
                .is_none_or(|a| matches!(a.state, TaskState::Done | TaskState::Skipped))
    }
}

/// Something that happened to a job, on its events subject.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Event {
    pub version: u32,
    pub job_id: String,
    pub at_ms: u64,
    #[serde(flatten)]
    pub body: EventBody,
}

/// The kinds of [`Event`].
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// The job's state changed (`error` set when it failed).
    State {
        state: JobState,
        #[serde(default)]
        error: Option<JobFailure>,
    },
    /// A segment advanced: `frames` of its `segment_frames` are done.
    Progress {
        segment: usize,
        frames: u64,
        segment_frames: u64,
        total_frames: u64,
        worker: String,
    },
    /// A worker started a task (`segment 3`, `audio`, …; `seq`: the task
    /// message's sequence in the work stream).
    TaskStarted {
        task: String,
        worker: String,
        attempt: u32,
        seq: u64,
        /// When it started, µs since 1970.
        at_us: u64,
    },
    /// A log line of the job (plugins, encoders, workers).
    Log { level: String, message: String },
    /// A submission was not taken (its id is in use by another spec, or it
    /// is malformed).
    Refused { reason: String },
}

impl EventBody {
    /// The last token of the event's subject.
    pub fn subject_token(&self) -> &'static str {
        match self {
            EventBody::State { .. } => "state",
            EventBody::Progress { .. } => "progress",
            EventBody::TaskStarted { .. } => "task",
            EventBody::Log { .. } => "log",
            EventBody::Refused { .. } => "refused",
        }
    }
}

/// A worker's heartbeat in the workers bucket, under its id; it expires
/// when the worker stops beating.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkerStatus {
    pub version: u32,
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub queues: Vec<String>,
    /// Tasks it runs at once.
    pub slots: usize,
    /// Tasks it runs now.
    pub busy: usize,
    pub cores: usize,
    pub memory_mib: u64,
    /// Video encoders its FFmpeg has.
    pub encoders: Vec<String>,
    /// Routed capabilities it has (`gpu`, `nvenc`).
    pub capabilities: Vec<String>,
    /// Whether it also plans jobs.
    pub planner: bool,
    pub started_at_ms: u64,
    pub beat_at_ms: u64,
}

/// The JSON Schemas of the fleet's messages and records, by name.
pub fn json_schemas() -> serde_json::Value {
    serde_json::json!({
        "JobSubmission": schemars::schema_for!(JobSubmission),
        "Task": schemars::schema_for!(Task),
        "JobRecord": schemars::schema_for!(JobRecord),
        "Event": schemars::schema_for!(Event),
        "WorkerStatus": schemars::schema_for!(WorkerStatus),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let names = FleetNames::default();
        assert_eq!(names.jobs_stream(), "FJ_JOBS");
        assert_eq!(names.jobs_bucket(), "fj-jobs");
        assert_eq!(names.submit_subject(), "fj.jobs.submit");
        assert_eq!(
            names.task_subject("4k", JobPriority::High, "segment"),
            "fj.work.4k.high.segment"
        );
        let other = FleetNames::new("t-3").unwrap();
        assert_eq!(other.work_stream(), "T_3_WORK");
        assert!(FleetNames::new("Bad.Prefix").is_err());
        assert!(FleetNames::new("").is_err());
    }

    #[test]
    fn tasks_read_back() {
        let task = Task {
            version: WIRE_VERSION,
            job_id: "j1".into(),
            kind: TaskKind::Segment { index: 3 },
            plan: Some(ObjectRef {
                key: "jobs/j1/plan.json".into(),
                digest: "SHA-256=x".into(),
            }),
            capabilities: vec![],
            min_memory_mib: None,
        };
        let text = serde_json::to_string(&task).unwrap();
        assert!(text.contains(r#""kind":"segment","index":3"#), "{text}");
        let back: Task = serde_json::from_str(&text).unwrap();
        assert_eq!(back.kind, TaskKind::Segment { index: 3 });
        assert!(
            serde_json::from_str::<Task>(r#"{"version":1,"job_id":"j","kind":"explode"}"#).is_err()
        );
    }
}
