//! `framejet run job.json -o out.mp4`: a whole job in-process, with a
//! progress bar on a terminal, plain lines otherwise, JSON lines with
//! `--json`, and a per-job log file beside the output.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use framejet_media::{FfmpegLogLine, set_ffmpeg_log_handler};

use crate::job::{
    JobSpec, LocalOptions, OutputFile, Plan, Progress, SegmentOutput, check_output_files,
    check_output_settings, run_local, run_outputs,
};
use crate::plugin::{LogLine, LogSink};

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The job spec (`.json` or `.toml`).
    job: PathBuf,
    /// The output file; its extension picks the container when the spec does not.
    #[arg(short, long)]
    output: PathBuf,
    /// Segments processed at once (default: the number of cores, and no more than the GPU in
    /// use holds).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Progress as JSON lines on stdout, for programs.
    #[arg(long)]
    json: bool,
    /// The job log (default: `<output>.log`).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Keep the intermediate segment files (in `.framejet-<job id>-<random>/` beside the output).
    #[arg(long)]
    keep_segments: bool,
    /// Replace the output, the job log and written masks when they exist
    /// (never one of the job's own files).
    #[arg(short = 'y', long)]
    overwrite: bool,
}

pub(crate) fn run(args: RunArgs, plugin_dirs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut spec = JobSpec::from_file(&args.job)?;
    spec.default_container_from(&args.output);
    let log_path = args
        .log
        .clone()
        .unwrap_or_else(|| with_suffix(&args.output, ".log"));
    // Every file this run writes is checked before the first is created.
    let mut writes = run_outputs(&spec, &args.output);
    writes.push(OutputFile::new("the job log", &log_path));
    check_output_files(&spec, Some(&args.job), &writes, args.overwrite)?;
    // A spec that cannot run is refused before anything is written.
    spec.validate()
        .and_then(|()| check_output_settings(&spec.output))
        .with_context(|| format!("job spec {}", args.job.display()))?;
    let registry = super::plugin_registry(plugin_dirs)?;
    let job_log = JobLog::create(&log_path)?;
    job_log.line(&format!("job spec {}", args.job.display()));
    let ffmpeg_log = job_log.clone();
    set_ffmpeg_log_handler(Some(Arc::new(move |l: &FfmpegLogLine<'_>| {
        let level = l.level.as_str().to_ascii_lowercase();
        match l.context {
            "" => ffmpeg_log.line(&format!("[{level}] ffmpeg: {}", l.message)),
            context => ffmpeg_log.line(&format!("[{level}] ffmpeg {context}: {}", l.message)),
        }
    })));

    let cancel = Arc::new(AtomicBool::new(false));
    let on_interrupt = cancel.clone();
    // The first Ctrl-C stops the job between frames and cleans up; a second one exits at once.
    let _ = ctrlc::set_handler(move || {
        if on_interrupt.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("cancelling: stopping between frames (Ctrl-C again to quit at once)");
    });
    let reporter = Reporter::new(args.json, job_log.clone());
    reporter.planning();
    let options = LocalOptions {
        jobs: args.jobs.unwrap_or_else(auto_jobs),
        output: args.output.clone(),
        work_dir: None,
        keep_work_dir: args.keep_segments,
        overwrite: args.overwrite,
        registry: &registry,
        progress: &reporter,
        log: job_log.sink(),
        cancel,
    };
    match run_local(spec, &options) {
        Ok((_, report)) => {
            reporter.finish();
            let audio = report.audio.as_ref().map_or(String::new(), |a| {
                format!(" (audio encoded beside them in {} ms)", a.encode_ms)
            });
            job_log.line(&format!(
                "timings: plan {} ms, segments {} ms{audio}, finalize {} ms",
                report.plan_ms, report.segments_ms, report.finalize_ms
            ));
            job_log.line(&format!("report {}", serde_json::to_string(&report)?));
            if args.json {
                println!("{}", serde_json::json!({"event": "done", "report": report}));
            } else {
                println!(
                    "wrote {} ({} frames, {:.1} s, {}, queue `{}`) in {:.1} s; log: {}",
                    args.output.display(),
                    report.output.frames,
                    report.output.duration_us as f64 / 1e6,
                    segments(report.segments.len()),
                    report.queue,
                    reporter.created.elapsed().as_secs_f64(),
                    log_path.display()
                );
                if let Some(dir) = &report.kept_work_dir {
                    println!("segments kept in {}", dir.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            reporter.abandon();
            job_log.line(&format!("[error] failed: {err}"));
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"event": "failed", "error": err.to_string()})
                );
            }
            Err(anyhow::Error::new(err).context(format!("job {}", args.job.display())))
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The per-job log file: resolved settings, plugin lines, timings.
#[derive(Clone)]
struct JobLog(Arc<Mutex<std::fs::File>>);

impl JobLog {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create the job log {}", path.display()))?;
        Ok(Self(Arc::new(Mutex::new(file))))
    }

    /// Writes `text` as one line, after the time (RFC 3339, UTC, milliseconds).
    fn line(&self, text: &str) {
        if let Ok(mut f) = self.0.lock() {
            let now = humantime::format_rfc3339_millis(std::time::SystemTime::now());
            let _ = writeln!(f, "{now} {text}");
        }
    }

    /// Plugin lines and step reports go to the log file and, at warn and above, to stderr.
    fn sink(&self) -> LogSink {
        let log = self.clone();
        Arc::new(move |l: &LogLine<'_>| {
            log.line(&format!("[{}] {}: {}", l.level, l.source, l.message));
            if l.level <= tracing::Level::WARN {
                tracing::warn!(source = %l.source, "{}", l.message);
            }
        })
    }
}

/// Progress on a terminal (a bar with fps and ETA), as plain lines, or as JSON.
struct Reporter {
    json: bool,
    bar: Option<ProgressBar>,
    log: JobLog,
    created: Instant,
    /// When the frames started, once planned: the rate leaves planning out.
    frames_from: OnceLock<Instant>,
    total: AtomicU64,
    done: AtomicU64,
    last_line: Mutex<Instant>,
}

impl Reporter {
    fn new(json: bool, log: JobLog) -> Self {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} frames  {per_sec}  ETA {eta}  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            json,
            bar,
            log,
            created: Instant::now(),
            frames_from: OnceLock::new(),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            last_line: Mutex::new(Instant::now()),
        }
    }

    /// Shows on the bar that the job is being planned, which takes a while before the first
    /// frame where a mark is found (`"auto"`) or learnt from frames across the video. Plain
    /// output says nothing until the plan: an error there stays its one line.
    fn planning(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message("planning: probing the inputs, finding and learning any mark");
            bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    fn fps(&self) -> f64 {
        let from = self.frames_from.get().unwrap_or(&self.created);
        self.done.load(Ordering::Relaxed) as f64 / from.elapsed().as_secs_f64().max(1e-3)
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn abandon(&self) {
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}

impl Progress for Reporter {
    fn planned(&self, plan: &Plan) {
        let total = plan.total_frames();
        self.total.store(total, Ordering::Relaxed);
        // Planning (finding and learning a mark) is not frames: rate and ETA start here.
        let _ = self.frames_from.set(Instant::now());
        if let Ok(mut last) = self.last_line.lock() {
            *last = Instant::now();
        }
        self.log.line(&format!(
            "plan: job {} -> queue `{}`, output {}x{} at {}/{} fps, {} frames in {}",
            plan.job_id,
            plan.route.queue,
            plan.output.width,
            plan.output.height,
            plan.output.frame_rate.0,
            plan.output.frame_rate.1,
            total,
            segments(plan.segments.len())
        ));
        for m in &plan.masks {
            self.log.line(&format!("inpaint mask {}", m.describe()));
        }
        for m in &plan.marks {
            self.log.line(&format!(
                "inpaint mark of steps[{}] on input {}{}, estimated from frames across it: {}",
                m.step,
                m.item,
                plan.place_name(m.step, m.item, m.place),
                m.describe()
            ));
        }
        if let Ok(spec) = serde_json::to_string(&plan.spec) {
            self.log.line(&format!("resolved spec {spec}"));
        }
        if self.json {
            println!(
                "{}",
                serde_json::json!({"event": "planned", "job": plan.job_id, "frames": total,
                    "segments": plan.segments.len(), "queue": plan.route.queue})
            );
        } else if let Some(bar) = &self.bar {
            bar.set_message("");
            bar.set_length(total);
            bar.reset_eta();
        } else {
            eprintln!(
                "planned {} frames in {}",
                total,
                segments(plan.segments.len())
            );
        }
    }

    fn frames(&self, frames: u64) {
        let done = self.done.fetch_add(frames, Ordering::Relaxed) + frames;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        // Plain and JSON lines at most once a second.
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        if last.elapsed().as_secs_f64() < 1.0 {
            return;
        }
        *last = Instant::now();
        let total = self.total.load(Ordering::Relaxed);
        let fps = self.fps();
        let eta = if fps > 0.0 {
            (total.saturating_sub(done)) as f64 / fps
        } else {
            0.0
        };
        if self.json {
            println!(
                "{}",
                serde_json::json!({"event": "progress", "frames": done, "total": total,
                    "fps": (fps * 10.0).round() / 10.0, "eta_s": eta.round()})
            );
        } else {
            eprintln!("{done}/{total} frames, {fps:.1} fps, ETA {eta:.0} s");
        }
    }

    fn segment_done(&self, out: &SegmentOutput) {
        self.log.line(&format!(
            "segment {} done: {} frames, {} bytes, {} ms",
            out.index,
            out.frames,
            out.bytes,
            out.elapsed.as_millis()
        ));
        if self.json {
            println!(
                "{}",
                serde_json::json!({"event": "segment", "index": out.index, "frames": out.frames,
                    "ms": out.elapsed.as_millis() as u64})
            );
        }
    }

    fn finalizing(&self) {
        self.log.line("finalize: joining segments and audio");
        if let Some(bar) = &self.bar {
            bar.set_message("joining…");
        }
    }
}

/// `--jobs` by default: one segment per core, and no more than the GPU in use holds.
fn auto_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let gpu = crate::job::gpu::share();
    tracing::debug!("{}", gpu.summary);
    gpu.slots.map_or(cores, |by_gpu| cores.min(by_gpu))
}

/// "1 segment", "2 segments".
fn segments(n: usize) -> String {
    if n == 1 {
        "1 segment".to_string()
    } else {
        format!("{n} segments")
    }
}
