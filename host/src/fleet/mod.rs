//! The fleet: jobs as NATS JetStream messages, planned by a planner and
//! run by workers on many machines.
//!
//! Only transport lives here. The work is the very same [`crate::job`]
//! calls `framejet run` makes: [`crate::job::plan`] in the planner,
//! [`crate::job::run_segment`], [`crate::job::encode_audio`] and
//! [`crate::job::finalize`] in workers. What travels between them is the
//! plan (an object in the media store), the tasks (messages naming the
//! plan's key and digest) and the job record (a KV entry updated with
//! compare-and-set). The subjects and messages are documented API:
//! `docs/subjects.md`, with the types in [`framejet_spec::fleet`].

mod client;
mod connect;
mod error;
mod job_log;
mod media;
mod planner;
mod record_cache;
mod records;
mod storage;
mod up;
mod worker;

pub(crate) use client::{FollowProgress, mask_destinations};
pub use client::{
    FollowUpdate, PurgedQueue, SubmitOptions, Submitted, cancel_job, download_output, follow,
    follow_events, purge_job, purge_queue, submit_job,
};
pub use connect::{Fleet, FleetSettings, NatsOptions};
pub use error::FleetError;
pub use job_log::{job_log, log_line};
pub use media::{MEDIA_SCHEME, check_plugin, push_plugin, store_plugin};
pub(crate) use media::{is_object_name, job_key, safe_file_name};
pub use planner::run_planner;
pub use up::{UpOptions, run_up};
pub use worker::{Slots, WorkerOptions, run_worker};
pub(crate) use worker::{shutdown_signal, stopped};

/// Milliseconds since 1970, the fleet's timestamps.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
