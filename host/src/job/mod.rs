//! Jobs, free of any transport: a [`JobSpec`] is planned ([`plan()`]) into
//! segment tasks, each task is run ([`run_segment`]) into an encoded segment,
//! and [`finalize()`] joins them with the audio into the output.
//!
//! `framejet run` calls the three in-process through [`run_local`]; the
//! fleet moves the very same calls between machines.

mod assets;
mod device_steps;
mod error;
mod finalize;
pub mod gpu;
mod inpaint;
mod local;
mod output_files;
mod plan;
mod segment;
mod settings;
pub mod spec;
mod steps;
pub mod storage;

pub use assets::JobAssets;
pub(crate) use assets::missing_asset;
pub use error::JobError;
pub use finalize::{AudioOutput, FinalOutput, encode_audio, finalize};
pub use local::{JobReport, LocalOptions, Progress, run_local};
pub use output_files::{
    OutputConflict, OutputFile, check_output_files, mask_files, run_outputs, write_mask,
};
pub use plan::{
    DEFAULT_ROUTER, DEFAULT_SEGMENTER, OutputFormat, PLAN_VERSION, Plan, PlanError, PlanItem,
    PlanOptions, RouteDecision, SegmentTask, new_job_id, plan,
};
pub use segment::{SegmentContext, SegmentOutput, run_segment};
pub use settings::check_output_settings;
pub use spec::{JobSpec, SpecError};
