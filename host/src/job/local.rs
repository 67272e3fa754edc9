//! `run_local`: a whole job on this machine, no server. Plan, then the
//! segments on a pool of threads, then finalize; progress goes to a
//! [`Progress`] observer, and a failure leaves no partial output behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::plugin::{LogSink, PluginRegistry};

use super::JobError;
use super::finalize::{AudioOutput, FinalOutput, encode_audio, finalize};
use super::output_files::{check_output_files, mask_files, run_outputs, write_mask};
use super::plan::{Plan, PlanOptions, plan};
use super::segment::{SegmentContext, SegmentOutput, run_segment};
use super::spec::JobSpec;
use super::storage::LocalDir;

/// What a running job reports as it goes.
pub trait Progress: Sync {
    /// The plan is made: `total_frames` output frames in `segments` tasks.
    fn planned(&self, plan: &Plan) {
        let _ = plan;
    }
    /// `frames` more output frames are done.
    fn frames(&self, frames: u64) {
        let _ = frames;
    }
    /// A segment is encoded.
    fn segment_done(&self, output: &SegmentOutput) {
        let _ = output;
    }
    /// Joining the segments and the audio has started.
    fn finalizing(&self) {}
}

/// No progress reporting.
impl Progress for () {}

/// Settings of a local run.
pub struct LocalOptions<'a> {
    /// Segments processed at once.
    pub jobs: usize,
    /// Where the output goes.
    pub output: PathBuf,
    /// Where intermediate files go (default: a directory beside the output,
    /// removed at the end).
    pub work_dir: Option<PathBuf>,
    /// Keep the intermediate files.
    pub keep_work_dir: bool,
    /// Replace an output (or a mask PNG beside it) that already exists.
    pub overwrite: bool,
    pub registry: &'a PluginRegistry,
    pub progress: &'a dyn Progress,
    /// Where plugin log lines go.
    pub log: LogSink,
    /// Set from outside (Ctrl-C) to stop between frames.
    pub cancel: Arc<AtomicBool>,
}

/// What a finished job did, with each stage's timing.
#[derive(Debug, Clone, Serialize)]
pub struct JobReport {
    pub job_id: String,
    pub output: FinalOutput,
    pub queue: String,
    pub segments: Vec<SegmentOutput>,
    /// The audio track, when it was encoded beside the segments.
    pub audio: Option<AudioOutput>,
    /// Mask PNGs written beside the output (inpaint steps with `write_mask`).
    pub masks: Vec<PathBuf>,
    /// The directory of the intermediate files, when they were kept.
    pub kept_work_dir: Option<PathBuf>,
    pub plan_ms: u64,
    pub segments_ms: u64,
    pub finalize_ms: u64,
}

/// Runs `spec` start to finish on this machine.
///
/// The output's container is the spec's, else the one the output's file name
/// names. Before any work, the output and the masks written beside it are
/// checked with [`check_output_files`].
pub fn run_local(
    mut spec: JobSpec,
    options: &LocalOptions<'_>,
) -> Result<(Plan, JobReport), JobError> {
    let t0 = Instant::now();
    spec.default_container_from(&options.output);
    let writes = run_outputs(&spec, &options.output);
    check_output_files(&spec, None, &writes, options.overwrite)?;
    // One watchdog covers the whole job, planning included.
    let watchdog = spec
        .timeout_s
        .map(|secs| (secs, Watchdog::start(secs, t0, options.cancel.clone())));
    let result = plan_and_run(spec, options, t0);
    match (watchdog.map(|(secs, w)| (secs, w.stop())), result) {
        // The deadline cancelled the job; that is the cause, not "cancelled".
        (Some((secs, true)), Err(_)) => Err(JobError::TimedOut(secs)),
        (_, result) => result,
    }
}

fn plan_and_run(
    spec: JobSpec,
    options: &LocalOptions<'_>,
    t0: Instant,
) -> Result<(Plan, JobReport), JobError> {
    let mut plan = plan(
        spec,
        options.registry,
        &PlanOptions {
            parallel_segments: options.jobs,
            encoder_threads: encoder_threads(options.jobs),
            one_machine: true,
        },
    )?;
    // Fewer segments than `jobs` (a short video) leave cores to each encoder.
    plan.encoder_threads = encoder_threads(options.jobs.min(plan.segments.len()));
    let plan_time = t0.elapsed();
    options.progress.planned(&plan);

    let work_dir = match &options.work_dir {
        Some(dir) => dir.clone(),
        None => new_work_dir(&options.output, &plan.job_id)?,
    };
    let storage = LocalDir::new(&work_dir).map_err(|e| JobError::io(&work_dir, e))?;
    let result = run_planned(&plan, &storage, options, plan_time);
    if !options.keep_work_dir {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    result.map(|mut report| {
        if options.keep_work_dir {
            report.kept_work_dir = Some(work_dir);
        }
        (plan, report)
    })
}

fn run_planned(
    plan: &Plan,
    storage: &LocalDir,
    options: &LocalOptions<'_>,
    plan_time: Duration,
) -> Result<JobReport, JobError> {
    let t1 = Instant::now();
    // The audio track (when it needs encoding) is made beside the segments.
    let (segments, audio) = std::thread::scope(|scope| {
        let audio = scope.spawn(|| {
            let audio = encode_audio(plan, storage, &options.output, &options.cancel);
            if audio.is_err() {
                options.cancel.store(true, Ordering::Relaxed);
            }
            audio
        });
        let segments = run_segments(plan, storage, options);
        if segments.is_err() {
            options.cancel.store(true, Ordering::Relaxed);
        }
        let audio = audio
            .join()
            .unwrap_or_else(|_| Err(JobError::media("audio", "the audio encoder panicked")));
        (segments, audio)
    });
    let segments_time = t1.elapsed();
    // When one failed and so cancelled the other, the failure is the cause.
    let (segments, audio) = match (segments, audio) {
        (Ok(segments), Ok(audio)) => (segments, audio),
        (Err(JobError::Cancelled), Err(e)) | (Err(e), _) | (_, Err(e)) => return Err(e),
    };

    let t2 = Instant::now();
    options.progress.finalizing();
    let output = finalize(plan, &segments, audio.as_ref(), storage, &options.output)?;
    let masks = write_masks(plan, &options.output)?;
    Ok(JobReport {
        job_id: plan.job_id.clone(),
        output,
        queue: plan.route.queue.clone(),
        segments,
        audio,
        masks,
        kept_work_dir: None,
        plan_ms: plan_time.as_millis() as u64,
        segments_ms: segments_time.as_millis() as u64,
        finalize_ms: t2.elapsed().as_millis() as u64,
    })
}

/// Runs every segment on `options.jobs` threads; the first error stops the rest.
fn run_segments(
    plan: &Plan,
    storage: &LocalDir,
    options: &LocalOptions<'_>,
) -> Result<Vec<SegmentOutput>, JobError> {
    let jobs = options.jobs.clamp(1, plan.segments.len().max(1));
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<SegmentOutput>> = Mutex::new(Vec::with_capacity(plan.segments.len()));
    let first_error: Mutex<Option<JobError>> = Mutex::new(None);
    let progress = |n: u64| options.progress.frames(n);
    let ctx = SegmentContext {
        registry: options.registry,
        storage,
        progress: &progress,
        log: options.log.clone(),
        cancel: &options.cancel,
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= plan.segments.len() || options.cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    match run_segment(plan, i, &ctx) {
                        Ok(out) => {
                            options.progress.segment_done(&out);
                            if let Ok(mut done) = done.lock() {
                                done.push(out);
                            }
                        }
                        Err(e) => {
                            options.cancel.store(true, Ordering::Relaxed);
                            if let Ok(mut first) = first_error.lock() {
                                // A cancellation caused by the first error is not the cause.
                                if first.is_none() || matches!(*first, Some(JobError::Cancelled)) {
                                    *first = Some(e);
                                }
                            }
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    if options.cancel.load(Ordering::Relaxed) {
        return Err(JobError::Cancelled);
    }
    let mut done = done.into_inner().unwrap_or_default();
    done.sort_by_key(|s| s.index);
    Ok(done)
}

/// Threads per segment encoder when `jobs` segments run at once: twice the
/// machine's cores shared out, at most as many as x264 takes by itself for
/// the whole machine (one and a half a core: a frame waits on the rows of
/// the frames it refers to, so a thread a core leaves cores idle). While
/// every segment runs, the cores are a little oversubscribed; when the last
/// segments run alone (segments cut on keyframes differ in length), their
/// encoders still keep every core busy, as an encoder cannot take more
/// threads once open.
fn encoder_threads(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cores.div_ceil(jobs.max(1))).min((3 * cores).div_ceil(2))
}

/// A new directory beside the output for the intermediate files:
/// `.framejet-<job id>-<random>`, created here, so it is never a directory
/// of the user's.
fn new_work_dir(output: &Path, job_id: &str) -> Result<PathBuf, JobError> {
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(&format!(".framejet-{job_id}-"))
        .tempdir_in(dir)
        .map(tempfile::TempDir::keep)
        .map_err(|e| JobError::io(dir, e))
}

/// Writes the mask of each inpaint step that asks for it beside the output,
/// under the names [`mask_files`] gives.
fn write_masks(plan: &Plan, output: &Path) -> Result<Vec<PathBuf>, JobError> {
    let mut written = Vec::new();
    for (step, item, path) in mask_files(&plan.spec, output) {
        write_mask(plan, step, item, &path)?;
        written.push(path);
    }
    Ok(written)
}

/// Sets the cancel flag when a job runs past its `timeout_s`.
struct Watchdog {
    done: Arc<AtomicBool>,
    fired: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Watchdog {
    fn start(secs: u64, started: Instant, cancel: Arc<AtomicBool>) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let fired = Arc::new(AtomicBool::new(false));
        let (d, f) = (done.clone(), fired.clone());
        let deadline = started + Duration::from_secs(secs);
        let thread = std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                if Instant::now() >= deadline {
                    f.store(true, Ordering::Relaxed);
                    cancel.store(true, Ordering::Relaxed);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self {
            done,
            fired,
            thread,
        }
    }

    /// Stops watching; returns whether the deadline passed.
    fn stop(self) -> bool {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.fired.load(Ordering::Relaxed)
    }
}
