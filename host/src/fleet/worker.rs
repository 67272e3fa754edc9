//! `framejet worker`: pulls tasks from its queues, as many at once as it
//! has free slots, highest priority first, and runs each with the same
//! `run_segment` / `encode_audio` / `finalize` that `framejet run` calls.
//!
//! A task is acked only when its product is in the media store and the job
//! record says so; while it runs, in-progress acks keep it ours. An error a
//! retry can help naks it with a backoff; any other fails the job and terms
//! the task. The delivery after the last allowed attempt fails the job with
//! the reason (the worker running it died each time), so nothing is dropped
//! silently and nothing stays in the stream.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use async_nats::jetstream::consumer::{self, PullConsumer};
use async_nats::jetstream::{self, AckKind};
use framejet_spec::fleet::{
    EventBody, JobFailure, JobRecord, JobState, MaskFileRecord, ObjectRef, PRIORITIES, Task,
    TaskKind, TaskRecord, TaskState, WIRE_VERSION, WorkerStatus,
};
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::job::storage::Storage;
use crate::job::{
    AudioOutput, JobError, Plan, SegmentContext, SegmentOutput, encode_audio, finalize, mask_files,
    run_segment, write_mask,
};
use crate::plugin::{LogLine, LogSink, PluginRegistry};

use super::media::{MediaCache, job_key, media_name, pushed_plugin};
use super::record_cache::RecordCache;
use super::storage::ObjectStorage;
use super::{Fleet, FleetError, now_ms};

/// How many tasks a worker runs at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slots {
    /// The machine's cores divided by the threads one segment's encoder gets, and no more
    /// than the GPU in use holds (`framejet_gpu::segments_that_fit`, 1080p).
    Auto,
    Fixed(usize),
}

/// A worker's settings.
pub struct WorkerOptions {
    /// The queues it serves.
    pub queues: Vec<String>,
    pub slots: Slots,
    /// Threads one segment's encoder gets; with `Slots::Auto`, the slots
    /// are the cores divided by this. A planner in this worker fixes it in
    /// its plans.
    pub encoder_threads: usize,
    /// Routed capabilities this worker has (`gpu`, `nvenc`); those its GPU brings are added.
    pub capabilities: Vec<String>,
    /// Also plan submitted jobs.
    pub planner: bool,
    /// Where inputs are cached and segments are made (default: a new
    /// temporary directory, removed at exit).
    pub cache_dir: Option<PathBuf>,
    /// The worker's id (default: host, pid and a random suffix).
    pub id: Option<String>,
    pub registry: Arc<PluginRegistry>,
}

/// How long an idle worker waits for a wake-up, or a waiting pull for a
/// task, before it looks again.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// How long a worker woken for a task it did not find waits for one.
const LINGER: Duration = Duration::from_millis(10);
/// How often a running task reports progress and looks for a cancel.
const TICK: Duration = Duration::from_millis(250);
/// How long a worker holds a task it cannot take before handing it back.
const HAND_BACK_PAUSE: Duration = Duration::from_millis(500);
/// Plans kept in memory, by digest.
const PLAN_CACHE: usize = 16;
/// How far into a segment (frames done by the next progress tick at the
/// current pace, as a fraction) a worker whose every slot is busy holds one
/// more task, to fetch its input early. Looking a tick ahead lets a segment
/// shorter than a few ticks still announce its end.
const NEAR_END: f64 = 0.75;

/// A task held beyond the slots while they finish: in-progress-acked while
/// it waits, its plan and input fetched meanwhile. It runs in the next free
/// slot, unless a task of a higher priority has come; on drain it is
/// handed back.
struct Held {
    message: jetstream::Message,
    /// Index of the consumer it came from (see [`consumers`]).
    consumer: usize,
    keepalive: tokio::task::JoinHandle<()>,
}

/// Runs a worker until SIGTERM or Ctrl-C; then it stops pulling, finishes
/// what it holds and exits.
pub async fn run_worker(fleet: Fleet, options: WorkerOptions) -> Result<(), FleetError> {
    for q in &options.queues {
        if !framejet_spec::fleet::is_token(q) {
            return Err(FleetError::Refused(format!(
                "queue `{q}`: use letters, digits, `-` and `_`"
            )));
        }
    }
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("stopping: no new tasks; finishing the ones running");
        let _ = stop_tx.send(true);
    });
    serve(fleet, options, stop).await
}

/// Resolves on SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Resolves when `stop` turns true (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The worker loop, until `stop` turns true.
pub(crate) async fn serve(
    fleet: Fleet,
    options: WorkerOptions,
    mut stop: watch::Receiver<bool>,
) -> Result<(), FleetError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let encoder_threads = options.encoder_threads.max(1);
    let gpu = tokio::task::spawn_blocking(crate::job::gpu::share)
        .await
        .unwrap_or_else(|e| crate::job::gpu::GpuShare::none(format!("looking at it failed: {e}")));
    tracing::info!("{}", gpu.summary);
    let slots = match options.slots {
        Slots::Auto => {
            let by_cores = (cores / encoder_threads).max(1);
            gpu.slots.map_or(by_cores, |by_gpu| by_cores.min(by_gpu))
        }
        Slots::Fixed(n) => n.max(1),
    };
    let mut capabilities = options.capabilities.clone();
    for c in gpu.capabilities {
        if !capabilities.contains(&c) {
            capabilities.push(c);
        }
    }
    let (cache_dir, _temp) = match &options.cache_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("framejet-worker-")
                .tempdir()
                .map_err(|e| FleetError::io(std::env::temp_dir(), e))?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let id = options.id.clone().unwrap_or_else(worker_id);
    let worker = Arc::new(Worker {
        fleet: fleet.clone(),
        id: id.clone(),
        registry: options.registry.clone(),
        cache: MediaCache::new(cache_dir.join("media")),
        work_dir: cache_dir.join("work"),
        plans: tokio::sync::Mutex::new(HashMap::new()),
        records: RecordCache::start(fleet.clone(), stop.clone()),
        capabilities: capabilities.clone(),
        memory_mib: memory_mib(),
        busy: AtomicUsize::new(0),
        trimming: AtomicBool::new(false),
        near_end: tokio::sync::Notify::new(),
        nearing: AtomicUsize::new(0),
    });

    let consumers = consumers(&fleet, &options.queues).await?;
    let mut wake = fleet
        .client
        .subscribe(fleet.names().work_subjects())
        .await
        .map_err(|e| FleetError::nats("subscribe to task wake-ups", e))?;

    let status = WorkerStatus {
        version: WIRE_VERSION,
        id: id.clone(),
        host: hostname(),
        pid: std::process::id(),
        queues: options.queues.clone(),
        slots,
        busy: 0,
        cores,
        memory_mib: memory_mib(),
        encoders: framejet_media::video_encoders(),
        capabilities,
        planner: options.planner,
        started_at_ms: now_ms(),
        beat_at_ms: now_ms(),
    };
    let heartbeat = tokio::spawn(heartbeat(worker.clone(), status, stop.clone()));
    let planner = options.planner.then(|| {
        tokio::spawn(super::planner::serve(
            fleet.clone(),
            options.registry.clone(),
            encoder_threads,
            cache_dir.join("planner"),
            stop.clone(),
        ))
    });
    tracing::info!(
        "worker {id}: queues {}, {slots} slots{}",
        options.queues.join(","),
        if options.planner { ", planning" } else { "" }
    );

    let free = Arc::new(Semaphore::new(slots));
    let mut running = tokio::task::JoinSet::new();
    let mut held: Option<Held> = None;
    let mut armed = Armed::new(consumers.len());
    // Which consumers may hold tasks, and when all were last asked.
    let mut pending = vec![true; consumers.len()];
    let prefixes = task_prefixes(&options.queues, fleet.names());
    let mut swept = tokio::time::Instant::now();
    let start = |running: &mut tokio::task::JoinSet<()>, message, permit| {
        let worker = worker.clone();
        worker.busy.fetch_add(1, Ordering::Relaxed);
        running.spawn(async move {
            let slot = Slot {
                _permit: permit,
                busy: &worker.busy,
            };
            let worked = worker.handle(message, slot).await;
            // After media work only (a no-op task frees nothing), one at a time: it walks
            // the whole heap, and not on the async threads.
            if worked && !worker.trimming.swap(true, Ordering::AcqRel) {
                let worker = worker.clone();
                drop(tokio::task::spawn_blocking(move || {
                    release_freed_memory();
                    worker.trimming.store(false, Ordering::Release);
                }));
            }
        });
    };
    'pull: loop {
        let permit = tokio::select! {
            permit = free.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            Some(pull) = armed.next(), if !armed.is_empty() => {
                if let Some(task) = pull.task {
                    pending[pull.consumer] = true;
                    start(&mut running, task, pull.permit);
                }
                continue;
            }
            // Every slot is busy (or this would have a permit) and one is
            // near its end.
            _ = worker.near_end.notified(), if held.is_none() && armed.is_empty() => {
                if worker.nearing.load(Ordering::Relaxed) > 0 {
                    held = worker.hold(&consumers).await;
                }
                continue;
            }
            _ = super::worker::stopped(&mut stop) => break,
        };
        if let Some(h) = held.take() {
            let higher: Vec<&PullConsumer> = consumers
                [..h.consumer - h.consumer % options.queues.len()]
                .iter()
                .collect();
            match next_tasks(&higher, 1)
                .await
                .ok()
                .and_then(|(mut m, _)| m.pop())
            {
                Some(urgent) => {
                    held = Some(h);
                    start(&mut running, urgent, permit);
                }
                None => {
                    h.keepalive.abort();
                    start(&mut running, h.message, permit);
                }
            }
            continue;
        }
        // Every free slot, not just this one, asks in the same request.
        let mut permits = vec![permit];
        while let Ok(p) = free.clone().try_acquire_owned() {
            permits.push(p);
        }
        // Only the consumers that may hold tasks are asked: those not found
        // empty since, those woken since, and all of them again every
        // IDLE_POLL (for redeliveries, which wake no one).
        if swept.elapsed() >= IDLE_POLL {
            pending.fill(true);
            swept = tokio::time::Instant::now();
        }
        while let Some(Some(m)) = wake.next().now_or_never() {
            mark_woken(&mut pending, &[m.subject], &prefixes);
        }
        let mut woken = false;
        let messages = loop {
            if *stop.borrow() {
                break 'pull;
            }
            let look_at: Vec<usize> = (0..consumers.len()).filter(|&i| pending[i]).collect();
            let chosen: Vec<&PullConsumer> = look_at.iter().map(|&i| &consumers[i]).collect();
            match next_tasks(&chosen, permits.len()).await {
                Ok((m, drained)) => {
                    for &i in &look_at[..drained] {
                        pending[i] = false;
                    }
                    if !m.is_empty() {
                        break m;
                    }
                }
                Err(e) => tracing::warn!("pulling tasks: {e}"),
            }
            // Nothing waits: with a free slot for each consumer not yet
            // waiting on a pull, all of them wait on one, so that the next
            // task comes straight to this worker.
            let unarmed: Vec<usize> = (0..consumers.len()).filter(|&i| !armed.on(i)).collect();
            if !unarmed.is_empty() && permits.len() >= unarmed.len() {
                for i in unarmed {
                    if let Some(permit) = permits.pop() {
                        armed.arm(i, &consumers[i], permit);
                    }
                }
            }
            // A wake-up can come before the stream has stored its task, or
            // another worker took it: wait a moment on the highest woken
            // consumer, which also catches the next task published there.
            if let (true, false, Some(first)) = (woken, permits.is_empty(), chosen.first()) {
                match pull_one(first, LINGER).await {
                    Ok(Some(m)) => break vec![m],
                    Ok(None) => {}
                    Err(e) => tracing::warn!("pulling tasks: {e}"),
                }
            }
            tokio::select! {
                Some(pull) = armed.next(), if !armed.is_empty() => match pull.task {
                    Some(task) => {
                        // More may follow it: look there at once.
                        pending[pull.consumer] = true;
                        start(&mut running, task, pull.permit);
                        break Vec::new();
                    }
                    None => permits.push(pull.permit),
                },
                got = wake.next() => {
                    let mut subjects = got.into_iter().map(|m| m.subject).collect::<Vec<_>>();
                    while let Some(Some(m)) = wake.next().now_or_never() {
                        subjects.push(m.subject);
                    }
                    let mut hit = vec![false; consumers.len()];
                    mark_woken(&mut hit, &subjects, &prefixes);
                    // A consumer waiting on a pull gets its task anyway.
                    woken = false;
                    for (i, hit) in hit.into_iter().enumerate() {
                        if hit && !armed.on(i) {
                            pending[i] = true;
                            woken = true;
                        }
                    }
                }
                _ = tokio::time::sleep(IDLE_POLL) => {
                    for (i, p) in pending.iter_mut().enumerate() {
                        *p = !armed.on(i);
                    }
                    swept = tokio::time::Instant::now();
                    woken = false;
                }
                _ = super::worker::stopped(&mut stop) => {}
            }
        };
        // Slots that got no task are free again when `permits` drops.
        for (message, permit) in messages.into_iter().zip(permits.drain(..)) {
            start(&mut running, message, permit);
        }
        while running.try_join_next().is_some() {}
    }
    if let Some(h) = held.take() {
        h.keepalive.abort();
        worker.hand_back(&h.message, "the worker is stopping").await;
    }
    // A waiting pull may still bring a task: it is ours, and runs.
    while let Some(pull) = armed.next().await {
        if let Some(task) = pull.task {
            start(&mut running, task, pull.permit);
        }
    }
    // Finish what we hold: nothing is lost, nothing is half-done.
    while running.join_next().await.is_some() {}
    if let Some(planner) = planner {
        let _ = planner.await;
    }
    let _ = heartbeat.await;
    let _ = fleet.workers.purge(&id).await;
    tracing::info!("worker {id}: stopped");
    Ok(())
}

/// One pull consumer per queue and priority, highest priority first.
async fn consumers(fleet: &Fleet, queues: &[String]) -> Result<Vec<PullConsumer>, FleetError> {
    let names = fleet.names();
    let stream = fleet.work_stream().await?;
    let mut consumers = Vec::new();
    for priority in PRIORITIES {
        for queue in queues {
            let name = names.consumer(queue, priority);
            let consumer: PullConsumer = stream
                .get_or_create_consumer(
                    &name,
                    consumer::pull::Config {
                        durable_name: Some(name.clone()),
                        filter_subject: names.queue_subjects(queue, priority),
                        ack_policy: consumer::AckPolicy::Explicit,
                        ack_wait: fleet.settings.ack_wait,
                        // One delivery beyond the attempts: the one that
                        // fails the job with the reason.
                        max_deliver: i64::from(fleet.settings.max_attempts) + 1,
                        max_ack_pending: -1,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| FleetError::nats(format!("set up consumer {name}"), e))?;
            consumers.push(consumer);
        }
    }
    Ok(consumers)
}

/// The prefix of each consumer's task subjects, in [`consumers`] order.
fn task_prefixes(queues: &[String], names: &framejet_spec::fleet::FleetNames) -> Vec<String> {
    PRIORITIES
        .into_iter()
        .flat_map(|priority| {
            queues
                .iter()
                .map(move |q| names.task_subject(q, priority, ""))
        })
        .collect()
}

/// Marks as pending the consumers whose task subjects (`prefixes`, from
/// [`task_prefixes`]) are among `subjects`.
fn mark_woken(pending: &mut [bool], subjects: &[async_nats::Subject], prefixes: &[String]) {
    for (pending, prefix) in pending.iter_mut().zip(prefixes) {
        if subjects.iter().any(|s| s.starts_with(prefix.as_str())) {
            *pending = true;
        }
    }
}

/// Up to `wanted` waiting tasks, from the highest priority down: lower
/// priorities only fill the slots that higher ones leave free. Also says
/// how many of `consumers`, from the first, were found empty.
async fn next_tasks(
    consumers: &[&PullConsumer],
    wanted: usize,
) -> Result<(Vec<jetstream::Message>, usize), FleetError> {
    let mut found = Vec::new();
    let mut drained = 0;
    for consumer in consumers {
        if found.len() >= wanted {
            break;
        }
        let asked = wanted - found.len();
        let mut batch = consumer
            .fetch()
            .max_messages(asked)
            .messages()
            .await
            .map_err(|e| FleetError::nats("fetch tasks", e))?;
        let before = found.len();
        while let Some(message) = batch.next().await {
            match message {
                Ok(m) => found.push(m),
                // What was fetched is ours; an error ends this batch.
                Err(e) if found.is_empty() => return Err(FleetError::nats("fetch tasks", e)),
                Err(_) => break,
            }
        }
        if found.len() - before < asked {
            drained += 1;
        }
    }
    Ok((found, drained))
}

/// Pull requests left waiting on a worker's idle consumers, one task each,
/// so that a task published while it waits reaches it in one hop from the
/// stream (no wake-up, no second request). Each holds the slot its task
/// will run in, and is awaited to its end (a task, or [`IDLE_POLL`] without
/// one): a pull request dropped early could take a task to no one, to be
/// redelivered only after the ack wait.
struct Armed {
    on: Vec<bool>,
    pulls: FuturesUnordered<BoxFuture<'static, ArmedPull>>,
}

/// What a waiting pull brought, and the slot it held.
struct ArmedPull {
    consumer: usize,
    task: Option<jetstream::Message>,
    permit: OwnedSemaphorePermit,
}

impl Armed {
    fn new(consumers: usize) -> Self {
        Armed {
            on: vec![false; consumers],
            pulls: FuturesUnordered::new(),
        }
    }

    fn on(&self, consumer: usize) -> bool {
        self.on[consumer]
    }

    fn is_empty(&self) -> bool {
        self.pulls.is_empty()
    }

    /// Leaves a pull for one task waiting on `consumer` (index `i`).
    fn arm(&mut self, i: usize, consumer: &PullConsumer, permit: OwnedSemaphorePermit) {
        let consumer = consumer.clone();
        self.on[i] = true;
        self.pulls.push(
            async move {
                let task = match pull_one(&consumer, IDLE_POLL).await {
                    Ok(task) => task,
                    Err(e) => {
                        tracing::warn!("pulling tasks: {e}");
                        // Not at once again: the connection may be down.
                        tokio::time::sleep(IDLE_POLL).await;
                        None
                    }
                };
                ArmedPull {
                    consumer: i,
                    task,
                    permit,
                }
            }
            .boxed(),
        );
    }

    /// The next pull to end (cancel-safe).
    async fn next(&mut self) -> Option<ArmedPull> {
        let pull = self.pulls.next().await?;
        self.on[pull.consumer] = false;
        Some(pull)
    }
}

/// One task from `consumer`, waiting up to `wait` for it.
async fn pull_one(
    consumer: &PullConsumer,
    wait: Duration,
) -> Result<Option<jetstream::Message>, FleetError> {
    let mut batch = consumer
        .batch()
        .max_messages(1)
        .expires(wait)
        .messages()
        .await
        .map_err(|e| FleetError::nats("fetch tasks", e))?;
    match batch.next().await {
        Some(Ok(m)) => Ok(Some(m)),
        Some(Err(e)) => Err(FleetError::nats("fetch tasks", e)),
        None => Ok(None),
    }
}

async fn heartbeat(worker: Arc<Worker>, mut status: WorkerStatus, mut stop: watch::Receiver<bool>) {
    let every = worker.fleet.settings.heartbeat_ttl / 3;
    loop {
        status.busy = worker.busy.load(Ordering::Relaxed);
        status.beat_at_ms = now_ms();
        if let Ok(value) = serde_json::to_vec(&status)
            && let Err(e) = worker.fleet.workers.put(&status.id, value.into()).await
        {
            tracing::warn!("heartbeat: {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = super::worker::stopped(&mut stop) => return,
        }
    }
}

/// What one worker process shares between its running tasks.
struct Worker {
    fleet: Fleet,
    id: String,
    registry: Arc<PluginRegistry>,
    cache: MediaCache,
    work_dir: PathBuf,
    plans: tokio::sync::Mutex<HashMap<String, Arc<Plan>>>,
    /// The records of the jobs whose tasks run here.
    records: Arc<RecordCache>,
    capabilities: Vec<String>,
    /// This machine's memory (0: unknown, then any task's minimum is taken on trust).
    memory_mib: u64,
    busy: AtomicUsize,
    /// Whether freed memory is being handed back ([`release_freed_memory`]).
    trimming: AtomicBool,
    /// Woken when a running segment is near its end ([`NEAR_END`]).
    near_end: tokio::sync::Notify,
    /// Running segments past [`NEAR_END`], so that a wake-up kept while the
    /// pull loop was busy holds a task only while one still is.
    nearing: AtomicUsize,
}

/// One count of a running segment near its end, given back when its watch ends.
struct Nearing<'a>(&'a AtomicUsize);

impl<'a> Nearing<'a> {
    fn count(nearing: &'a AtomicUsize) -> Self {
        nearing.fetch_add(1, Ordering::Relaxed);
        Self(nearing)
    }
}

impl Drop for Nearing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A slot taken by a running task. It frees when the task's work is done,
/// before the task is settled with the server, so the next task is pulled
/// while the ack is confirmed.
struct Slot<'a> {
    _permit: tokio::sync::OwnedSemaphorePermit,
    busy: &'a AtomicUsize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a segment or audio task made, for its entry in the job record.
struct Made {
    state: TaskState,
    key: Option<String>,
    frames: u64,
    bytes: u64,
    duration_us: Option<i64>,
}

/// How a task ended, short of success.
enum Outcome {
    /// Done: ack.
    Done,
    /// The job has ended (cancelled, failed elsewhere, gone): drop the task.
    Dropped,
    /// Failed: retry if the error allows, else fail the job.
    Failed(FleetError),
}

impl Worker {
    /// Runs the task of `message` in `slot`; says whether it did media work.
    async fn handle(&self, message: jetstream::Message, slot: Slot<'_>) -> bool {
        let delivered = message
            .info()
            .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
            .unwrap_or(1);
        let max_attempts = self.fleet.settings.max_attempts;
        let task: Task = match serde_json::from_slice::<Task>(&message.payload) {
            Ok(task) if task.version == WIRE_VERSION => task,
            parsed => {
                let reason = match parsed {
                    Ok(task) => format!(
                        "task of wire version {}; this worker reads version {WIRE_VERSION}",
                        task.version
                    ),
                    Err(e) => format!("malformed task on {}: {e}", message.subject),
                };
                tracing::warn!("{reason}");
                if let Some(job) = job_id_of(&message.payload) {
                    self.fail(&job, "malformed_task", reason, false, None).await;
                }
                self.settle(&message, AckKind::Term).await;
                return false;
            }
        };
        let what = task.kind.describe();
        if delivered > max_attempts {
            let reason = format!(
                "{what} was started {max_attempts} times and never finished: the worker running it died, hung or lost its connection each time"
            );
            tracing::warn!("job {}: {reason}", task.job_id);
            self.fail(&task.job_id, "max_deliveries", reason, true, Some(what))
                .await;
            self.settle(&message, AckKind::Term).await;
            return false;
        }
        let missing = task
            .capabilities
            .iter()
            .find(|c| !self.capabilities.contains(c))
            .map(|c| format!("the `{c}` capability"))
            .or_else(|| {
                task.min_memory_mib
                    .filter(|&need| self.memory_mib > 0 && need > self.memory_mib)
                    .map(|need| format!("{need} MiB of memory"))
            });
        if let Some(missing) = missing {
            // Another worker of the queue may have it. A nak would count a
            // delivery against the task's attempts, so the task goes back
            // as a new message instead (after a pause, so that workers
            // without it do not pass it around in a tight loop).
            tracing::debug!(
                "job {}: {what} needs {missing}; handing it back",
                task.job_id
            );
            tokio::time::sleep(HAND_BACK_PAUSE).await;
            self.hand_back(&message, &format!("it needs {missing}"))
                .await;
            return false;
        }
        tracing::info!("job {}: {what} (attempt {delivered})", task.job_id);
        let seq = message.info().map_or(0, |i| i.stream_sequence);
        self.fleet
            .emit(
                &task.job_id,
                EventBody::TaskStarted {
                    task: what.clone(),
                    worker: self.id.clone(),
                    attempt: delivered,
                    seq,
                    at_us: now_us(),
                },
            )
            .await;
        let outcome = self.run(&task, &message).await;
        drop(slot);
        let worked = !matches!(task.kind, TaskKind::Noop);
        match outcome {
            Outcome::Done => {
                if let Err(e) = message.double_ack().await {
                    tracing::warn!("job {}: ack of {what}: {e}", task.job_id);
                }
            }
            Outcome::Dropped => self.settle(&message, AckKind::Term).await,
            Outcome::Failed(e) if e.retryable() && delivered < max_attempts => {
                let backoff = Duration::from_secs(1 << delivered.min(5));
                tracing::warn!(
                    "job {}: {what} failed ({e}); trying again in {} s",
                    task.job_id,
                    backoff.as_secs()
                );
                self.settle(&message, AckKind::Nak(Some(backoff))).await;
            }
            Outcome::Failed(e) => {
                tracing::warn!("job {}: {what} failed: {e}", task.job_id);
                let timed_out = matches!(e, FleetError::Job(JobError::TimedOut(_)));
                self.fail(
                    &task.job_id,
                    e.kind(),
                    e.to_string(),
                    e.retryable() && !timed_out,
                    Some(what),
                )
                .await;
                self.settle(&message, AckKind::Term).await;
            }
        }
        worked
    }

    /// Gives `message` back to its queue as a new message, so that the
    /// hand-back does not count as one of the task's attempts (a nak if
    /// that fails).
    async fn hand_back(&self, message: &jetstream::Message, why: &str) {
        tracing::debug!("handing back a task on {}: {why}", message.subject);
        match self
            .fleet
            .publish(message.subject.to_string(), None, message.payload.to_vec())
            .await
        {
            Ok(()) => self.settle(message, AckKind::Ack).await,
            Err(_) => {
                self.settle(message, AckKind::Nak(Some(HAND_BACK_PAUSE)))
                    .await
            }
        }
    }

    /// Takes one waiting task, highest priority first, to hold beyond the
    /// slots: it stays ours (in-progress acks) while its plan and input
    /// are fetched.
    async fn hold(self: &Arc<Self>, consumers: &[PullConsumer]) -> Option<Held> {
        for (i, consumer) in consumers.iter().enumerate() {
            let Some(message) = next_tasks(&[consumer], 1)
                .await
                .ok()
                .and_then(|(mut m, _)| m.pop())
            else {
                continue;
            };
            if let Ok(task) = serde_json::from_slice::<Task>(&message.payload) {
                let worker = self.clone();
                tokio::spawn(async move { worker.prefetch(&task).await });
            }
            let every = (self.fleet.settings.ack_wait / 3).max(Duration::from_millis(100));
            let keep = message.clone();
            let keepalive = tokio::spawn(async move {
                loop {
                    if let Err(e) = keep.ack_with(AckKind::Progress).await {
                        tracing::debug!("in-progress ack of a held task: {e}");
                    }
                    tokio::time::sleep(every).await;
                }
            });
            return Some(Held {
                message,
                consumer: i,
                keepalive,
            });
        }
        None
    }

    /// Fetches the plan and the input a held task will need (unless this
    /// worker will hand it back for a capability it lacks).
    async fn prefetch(&self, task: &Task) {
        let segment = match task.kind {
            TaskKind::Segment { index } => Some(index),
            TaskKind::Audio => None,
            TaskKind::Noop | TaskKind::Finalize => return,
        };
        if task
            .capabilities
            .iter()
            .any(|c| !self.capabilities.contains(c))
        {
            return;
        }
        let what = task.kind.describe();
        tracing::info!(
            "job {}: holding {what} while the slots finish; fetching its input",
            task.job_id
        );
        match self.plan(task, segment).await {
            Ok(_) => tracing::info!("job {}: the input of {what} is here", task.job_id),
            // The task's own run reports it.
            Err(e) => tracing::debug!("job {}: prefetch of {what}: {e}", task.job_id),
        }
    }

    async fn settle(&self, message: &jetstream::Message, kind: AckKind) {
        if let Err(e) = message.ack_with(kind).await {
            tracing::warn!("settling a task: {e}");
        }
    }

    /// Fails job `job` unless it has ended already.
    async fn fail(
        &self,
        job: &str,
        kind: &str,
        message: String,
        retryable: bool,
        task: Option<String>,
    ) {
        let failure = JobFailure {
            kind: kind.to_string(),
            message,
            retryable,
            task,
        };
        if let Err(e) = self
            .fleet
            .end_job(job, JobState::Failed, Some(failure))
            .await
        {
            tracing::warn!("job {job}: could not record the failure: {e}");
        }
    }

    async fn run(&self, task: &Task, message: &jetstream::Message) -> Outcome {
        // Finalize is queued by the last segment's update to the record,
        // which the cache's watch may not have brought yet: it reads the
        // record from the server.
        let record = match task.kind {
            TaskKind::Finalize => self
                .fleet
                .record(&task.job_id)
                .await
                .map(|read| read.map(|(record, _)| Arc::new(record))),
            _ => self.records.get(&task.job_id).await,
        };
        let record = match record {
            Ok(Some(record)) => record,
            Ok(None) => {
                tracing::warn!("job {}: no record; dropping its task", task.job_id);
                return Outcome::Dropped;
            }
            Err(e) => return Outcome::Failed(e),
        };
        if record.state.is_final() {
            return Outcome::Dropped;
        }
        if let Some(secs) = overdue(&record) {
            return Outcome::Failed(FleetError::Job(JobError::TimedOut(secs)));
        }
        let result = match task.kind {
            TaskKind::Noop => Ok(()),
            TaskKind::Segment { index } => self.segment(task, &record, index, message).await,
            TaskKind::Audio => self.audio(task, &record, message).await,
            TaskKind::Finalize => self.finalize(task, &record, message).await,
        };
        match result {
            Ok(()) => Outcome::Done,
            Err(FleetError::Job(JobError::Cancelled)) => {
                // Cancelled from outside, or past its deadline.
                match self.fleet.record(&task.job_id).await {
                    Ok(Some((r, _))) if !r.state.is_final() => match overdue(&r) {
                        Some(secs) => Outcome::Failed(FleetError::Job(JobError::TimedOut(secs))),
                        None => Outcome::Failed(FleetError::Job(JobError::Cancelled)),
                    },
                    _ => Outcome::Dropped,
                }
            }
            Err(e) => Outcome::Failed(e),
        }
    }

    async fn segment(
        &self,
        task: &Task,
        record: &JobRecord,
        index: usize,
        message: &jetstream::Message,
    ) -> Result<(), FleetError> {
        let job = task.job_id.as_str();
        let Some(state) = record.segments.get(index) else {
            return Err(malformed(format!(
                "segment {index} of a job with {} segments",
                record.segments.len()
            )));
        };
        if state.state == TaskState::Done {
            // Done before, its ack lost: make sure finalize follows.
            return self.queue_finalize_if_ready(task, record).await;
        }
        self.mark_running(job, |r| r.segments.get_mut(index))
            .await?;
        let plan = self.plan(task, Some(index)).await?;
        let registry = self.registry_for(&plan).await?;
        let dir = self.task_dir(job, &format!("segment-{index}"))?;
        let storage = ObjectStorage::new(self.fleet.clone(), job, dir.path().to_path_buf())?;
        let total = plan.segments.get(index).map_or(0, |s| s.output_frames());
        let watch = TaskWatch::new(job.to_string());
        let output: SegmentOutput = {
            let plan_frames = plan.total_frames();
            let (plan, watch2) = (plan.clone(), watch.clone());
            let run = tokio::task::spawn_blocking(move || {
                let progress = |n: u64| {
                    watch2.frames.fetch_add(n, Ordering::Relaxed);
                };
                let ctx = SegmentContext {
                    registry: &registry,
                    storage: &storage,
                    progress: &progress,
                    log: watch2.log_sink(),
                    cancel: &watch2.cancel,
                };
                run_segment(&plan, index, &ctx)
            });
            self.watch(run, &watch, message, total, |frames| EventBody::Progress {
                segment: index,
                frames,
                segment_frames: total,
                total_frames: plan_frames,
                worker: self.id.clone(),
            })
            .await?
        };
        // Uploaded by the storage's commit.
        let made = Made {
            state: TaskState::Done,
            key: Some(job_key(job, &output.key)),
            frames: output.frames,
            bytes: output.bytes,
            duration_us: None,
        };
        self.finished(task, |r| r.segments.get_mut(index), made)
            .await
    }

    async fn audio(
        &self,
        task: &Task,
        record: &JobRecord,
        message: &jetstream::Message,
    ) -> Result<(), FleetError> {
        let job = task.job_id.as_str();
        if record
            .audio
            .as_ref()
            .is_some_and(|a| matches!(a.state, TaskState::Done | TaskState::Skipped))
        {
            return self.queue_finalize_if_ready(task, record).await;
        }
        self.mark_running(job, |r| r.audio.as_mut()).await?;
        let plan = self.plan(task, None).await?;
        let dir = self.task_dir(job, "audio")?;
        let storage = ObjectStorage::new(self.fleet.clone(), job, dir.path().to_path_buf())?;
        let output_name = output_file_name(&plan);
        let watch = TaskWatch::new(job.to_string());
        let audio: Option<AudioOutput> = {
            let (plan, watch2) = (plan.clone(), watch.clone());
            let run = tokio::task::spawn_blocking(move || {
                encode_audio(&plan, &storage, Path::new(&output_name), &watch2.cancel)
            });
            self.watch(run, &watch, message, 0, |_| EventBody::Log {
                level: "debug".into(),
                message: "encoding audio".into(),
            })
            .await?
        };
        let made = Made {
            state: if audio.is_some() {
                TaskState::Done
            } else {
                TaskState::Skipped
            },
            key: audio.as_ref().map(|track| job_key(job, &track.key)),
            frames: 0,
            bytes: audio.as_ref().map_or(0, |t| t.bytes),
            duration_us: audio.as_ref().map(|t| t.duration_us),
        };
        self.finished(
            task,
            |r| Some(r.audio.get_or_insert_with(TaskRecord::default)),
            made,
        )
        .await
    }

    /// Records the task that `slot` picks from the job record as ended on
    /// this worker with what it made, then queues finalize if it was the
    /// last one.
    async fn finished(
        &self,
        task: &Task,
        slot: impl Fn(&mut JobRecord) -> Option<&mut TaskRecord>,
        made: Made,
    ) -> Result<(), FleetError> {
        let worker = self.id.clone();
        let (record, _) = self
            .fleet
            .update_record(&task.job_id, |r| {
                let t = slot(r)?;
                *t = TaskRecord {
                    state: made.state,
                    worker: Some(worker.clone()),
                    finished_at_ms: Some(now_ms()),
                    frames: made.frames,
                    key: made.key.clone(),
                    bytes: made.bytes,
                    duration_us: made.duration_us,
                    ..t.clone()
                };
                Some(())
            })
            .await?;
        self.queue_finalize_if_ready(task, &record).await
    }

    async fn finalize(
        &self,
        task: &Task,
        record: &JobRecord,
        message: &jetstream::Message,
    ) -> Result<(), FleetError> {
        let job = task.job_id.as_str();
        if !record.ready_to_finalize() {
            return Err(malformed(
                "finalize before every segment is done".to_string(),
            ));
        }
        self.mark_running(job, |r| r.finalize.as_mut()).await?;
        let plan = self.plan(task, None).await?;
        let dir = self.task_dir(job, "finalize")?;
        // The segments and the audio track, under the keys the job gave
        // them; the storage downloads each when finalize opens it.
        let mut segments = Vec::with_capacity(record.segments.len());
        for (index, s) in record.segments.iter().enumerate() {
            let key = s
                .key
                .clone()
                .ok_or_else(|| malformed(format!("segment {index} is done but has no key")))?;
            let local = local_key(job, &key)?;
            segments.push(SegmentOutput {
                index,
                key: local,
                frames: s.frames,
                bytes: s.bytes,
                elapsed: Duration::ZERO,
            });
        }
        let audio = match &record.audio {
            Some(TaskRecord {
                state: TaskState::Done,
                key: Some(key),
                bytes,
                duration_us,
                ..
            }) => {
                let local = local_key(job, key)?;
                Some(AudioOutput {
                    key: local,
                    duration_us: duration_us.unwrap_or(0),
                    bytes: *bytes,
                    encode_ms: 0,
                })
            }
            _ => None,
        };
        let storage = ObjectStorage::new(self.fleet.clone(), job, dir.path().to_path_buf())?;
        let output_name = output_file_name(&plan);
        let watch = TaskWatch::new(job.to_string());
        let (out, masks) = {
            let (plan, output_key) = (plan.clone(), output_name.clone());
            let run = tokio::task::spawn_blocking(move || {
                // The output is a key of the job like the rest.
                let path = storage
                    .writable_path(&output_key)
                    .map_err(|e| JobError::io(&output_key, e))?;
                let out = finalize(&plan, &segments, audio.as_ref(), &storage, &path)?;
                storage
                    .commit(&output_key)
                    .map_err(|e| JobError::io(&output_key, e))?;
                // Mask PNGs the spec asks for, beside the output.
                let mut masks = Vec::new();
                for (step, item, name) in mask_files(&plan.spec, Path::new(&output_key)) {
                    let name = name.to_string_lossy().into_owned();
                    let path = storage
                        .writable_path(&name)
                        .map_err(|e| JobError::io(&name, e))?;
                    write_mask(&plan, step, item, &path)?;
                    storage.commit(&name).map_err(|e| JobError::io(&name, e))?;
                    masks.push((step, item, name));
                }
                Ok((out, masks))
            });
            self.watch(run, &watch, message, 0, |_| EventBody::Log {
                level: "debug".into(),
                message: "joining the segments".into(),
            })
            .await?
        };
        let key = job_key(job, &output_name);
        let extension = output_name
            .rsplit_once('.')
            .map_or("mp4", |(_, e)| e)
            .to_string();
        let worker = self.id.clone();
        let (record, changed) = self
            .fleet
            .update_record(job, |r| {
                if r.state.is_final() {
                    return None;
                }
                r.state = JobState::Done;
                r.finished_at_ms = Some(now_ms());
                r.output = Some(framejet_spec::fleet::OutputRecord {
                    key: key.clone(),
                    bytes: out.bytes,
                    frames: out.frames,
                    duration_us: out.duration_us,
                    extension: extension.clone(),
                    masks: masks
                        .iter()
                        .map(|(step, item, name)| MaskFileRecord {
                            step: *step,
                            item: *item,
                            key: job_key(job, name),
                        })
                        .collect(),
                });
                if let Some(f) = r.finalize.as_mut() {
                    f.state = TaskState::Done;
                    f.worker = Some(worker.clone());
                    f.finished_at_ms = Some(now_ms());
                    f.key = Some(key.clone());
                    f.bytes = out.bytes;
                    f.frames = out.frames;
                }
                Some(())
            })
            .await?;
        if changed.is_some() {
            self.fleet
                .emit(
                    job,
                    EventBody::State {
                        state: JobState::Done,
                        error: None,
                    },
                )
                .await;
            // The intermediate files are no longer needed.
            for s in &record.segments {
                if let Some(k) = &s.key {
                    let _ = self.fleet.media.delete(k).await;
                }
            }
            if let Some(k) = record.audio.as_ref().and_then(|a| a.key.as_ref()) {
                let _ = self.fleet.media.delete(k).await;
            }
            super::job_log::store_job_log(&self.fleet, job).await;
            tracing::info!("job {job}: done ({} frames)", out.frames);
        }
        Ok(())
    }

    /// Counts an attempt of a task and says which worker has it.
    async fn mark_running(
        &self,
        job: &str,
        task: impl Fn(&mut JobRecord) -> Option<&mut TaskRecord>,
    ) -> Result<(), FleetError> {
        let id = self.id.clone();
        self.fleet
            .update_record(job, |r| {
                if r.state.is_final() {
                    return None;
                }
                let t = task(r)?;
                t.state = TaskState::Running;
                t.worker = Some(id.clone());
                t.attempts += 1;
                t.started_at_ms = Some(now_ms());
                Some(())
            })
            .await
            .map(drop)
    }

    /// When every segment and the audio are done, queues finalize (once:
    /// the record says so by compare-and-set, and the message id makes a
    /// repeat a no-op).
    async fn queue_finalize_if_ready(
        &self,
        task: &Task,
        record: &JobRecord,
    ) -> Result<(), FleetError> {
        if !record.ready_to_finalize() {
            return Ok(());
        }
        let job = task.job_id.as_str();
        let (record, first) = self
            .fleet
            .update_record(job, |r| {
                if r.state.is_final() || !r.ready_to_finalize() || r.finalize.is_some() {
                    return None;
                }
                r.state = JobState::Finalizing;
                r.finalize = Some(TaskRecord::default());
                Some(())
            })
            .await?;
        if record.state == JobState::Finalizing || first.is_some() {
            let queue = record.queue.clone().unwrap_or_else(|| "default".into());
            let finalize = Task {
                version: WIRE_VERSION,
                job_id: job.to_string(),
                kind: TaskKind::Finalize,
                plan: task.plan.clone(),
                capabilities: Vec::new(),
                min_memory_mib: None,
            };
            let payload =
                serde_json::to_vec(&finalize).map_err(|e| FleetError::malformed("task", e))?;
            self.fleet
                .publish(
                    self.fleet
                        .names()
                        .task_subject(&queue, record.priority, "finalize"),
                    Some(&super::media::task_msg_id(
                        job,
                        task.plan.as_ref(),
                        TaskKind::Finalize,
                    )),
                    payload,
                )
                .await?;
            if first.is_some() {
                self.fleet
                    .emit(
                        job,
                        EventBody::State {
                            state: JobState::Finalizing,
                            error: None,
                        },
                    )
                    .await;
            }
        }
        Ok(())
    }

    /// Waits for `run`, acking in progress, publishing progress and log
    /// lines, and cancelling it when its job ends or passes its deadline.
    /// A task of `task_frames` frames (0: unknown) wakes a prefetch when
    /// it nears its end.
    async fn watch<T>(
        &self,
        mut run: tokio::task::JoinHandle<Result<T, JobError>>,
        watch: &TaskWatch,
        message: &jetstream::Message,
        task_frames: u64,
        progress: impl Fn(u64) -> EventBody,
    ) -> Result<T, FleetError> {
        let ack_every = (self.fleet.settings.ack_wait / 3).max(Duration::from_millis(100));
        let mut near_end = task_frames == 0;
        // Counts this task among those near their end from then until the watch ends.
        let mut _nearing = None;
        let mut last_ack = tokio::time::Instant::now();
        let mut last_frames = 0;
        let mut done_at_last_tick = 0;
        let mut ticker = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                joined = &mut run => {
                    self.flush_logs(watch).await;
                    let frames = watch.frames.load(Ordering::Relaxed);
                    if frames != last_frames {
                        self.fleet.emit(&watch.job, progress(frames)).await;
                    }
                    return match joined {
                        Ok(result) => result.map_err(FleetError::Job),
                        Err(e) => Err(FleetError::Job(JobError::Media {
                            context: "worker".into(),
                            message: format!("the task panicked: {e}"),
                        })),
                    };
                }
                _ = ticker.tick() => {
                    if last_ack.elapsed() >= ack_every {
                        if let Err(e) = message.ack_with(AckKind::Progress).await {
                            tracing::warn!("in-progress ack: {e}");
                        }
                        last_ack = tokio::time::Instant::now();
                    }
                    match self.records.get(&watch.job).await {
                        Ok(Some(r)) if r.state.is_final() || overdue(&r).is_some() => {
                            watch.cancel.store(true, Ordering::Relaxed);
                        }
                        Ok(None) => watch.cancel.store(true, Ordering::Relaxed),
                        _ => {}
                    }
                    let done = watch.frames.load(Ordering::Relaxed);
                    if done != last_frames {
                        last_frames = done;
                        self.fleet.emit(&watch.job, progress(done)).await;
                    }
                    let by_next_tick = done + done.saturating_sub(done_at_last_tick);
                    done_at_last_tick = done;
                    if !near_end && by_next_tick as f64 >= NEAR_END * task_frames as f64 {
                        near_end = true;
                        _nearing = Some(Nearing::count(&self.nearing));
                        // Kept until the pull loop next waits, should it be busy now.
                        self.near_end.notify_one();
                    }
                    self.flush_logs(watch).await;
                }
            }
        }
    }

    async fn flush_logs(&self, watch: &TaskWatch) {
        let lines: Vec<(String, String)> = match watch.logs.lock() {
            Ok(mut logs) => logs.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        for (level, message) in lines {
            self.fleet
                .emit(&watch.job, EventBody::Log { level, message })
                .await;
        }
    }

    /// The task's plan: fetched once per digest, checked, and with the
    /// media it names (the inputs of `segment`'s item, or all) copied here.
    async fn plan(&self, task: &Task, segment: Option<usize>) -> Result<Arc<Plan>, FleetError> {
        let Some(plan_ref) = &task.plan else {
            return Err(malformed("a task without a plan".to_string()));
        };
        let plan = self.fetch_plan(plan_ref).await?;
        if plan.job_id != task.job_id {
            return Err(malformed(format!(
                "the plan is of job {}, the task of job {}",
                plan.job_id, task.job_id
            )));
        }
        let item = match segment {
            Some(index) => Some(
                plan.segments
                    .get(index)
                    .ok_or_else(|| {
                        FleetError::Job(JobError::Plan(crate::job::PlanError::Inconsistent(
                            format!(
                                "segment {index} of a plan with {} segments",
                                plan.segments.len()
                            ),
                        )))
                    })?
                    .item,
            ),
            None => None,
        };
        let mut local = (*plan).clone();
        let mut names = Vec::new();
        collect_media(&mut local, item, |name| {
            names.push(name.to_string());
            None
        });
        let mut paths = HashMap::new();
        for name in names {
            let path = self.cache.fetch(&self.fleet, &name).await?;
            paths.insert(name, path);
        }
        collect_media(&mut local, item, |name| paths.get(name).cloned());
        Ok(Arc::new(local))
    }

    async fn fetch_plan(&self, plan_ref: &ObjectRef) -> Result<Arc<Plan>, FleetError> {
        if let Some(plan) = self.plans.lock().await.get(&plan_ref.digest) {
            return Ok(plan.clone());
        }
        let info = self
            .fleet
            .media
            .info(&plan_ref.key)
            .await
            .map_err(|e| FleetError::Missing(format!("plan `{}`: {e}", plan_ref.key)))?;
        if info.digest.as_deref() != Some(plan_ref.digest.as_str()) {
            return Err(malformed(format!(
                "plan `{}` has digest {}, the task names {}",
                plan_ref.key,
                info.digest.unwrap_or_default(),
                plan_ref.digest
            )));
        }
        let bytes = self
            .fleet
            .get_bytes(&self.fleet.media, &plan_ref.key)
            .await?;
        let text = String::from_utf8_lossy(&bytes);
        let plan = Arc::new(Plan::from_json(&text).map_err(|e| FleetError::Job(e.into()))?);
        let mut plans = self.plans.lock().await;
        if plans.len() >= PLAN_CACHE {
            plans.clear();
        }
        plans.insert(plan_ref.digest.clone(), plan.clone());
        Ok(plan)
    }

    /// A registry in which every plugin the plan names is the very
    /// component it was planned with: from this worker's plugin path when
    /// the digest matches, else from the plugins store by digest.
    async fn registry_for(&self, plan: &Plan) -> Result<PluginRegistry, FleetError> {
        let scoped = self.registry.scoped();
        for (name, digest) in &plan.plugins {
            let local = tokio::task::block_in_place(|| self.registry.get(name).ok())
                .filter(|p| p.digest() == digest);
            let plugin = match local {
                Some(plugin) => plugin,
                None => pushed_plugin(
                    &self.fleet,
                    self.registry.runtime(),
                    name,
                    &format!("digests/{digest}"),
                )
                .await?
                .ok_or_else(|| {
                    FleetError::Missing(format!(
                        "plugin `{name}` with digest {digest} is neither on this worker's plugin path nor in the plugins store (framejet plugin push)"
                    ))
                })?,
            };
            scoped.pin(name, plugin);
        }
        Ok(scoped)
    }

    /// A fresh directory for one task's files, removed when dropped.
    fn task_dir(&self, job: &str, what: &str) -> Result<tempfile::TempDir, FleetError> {
        std::fs::create_dir_all(&self.work_dir).map_err(|e| FleetError::io(&self.work_dir, e))?;
        tempfile::Builder::new()
            .prefix(&format!("{job}-{what}-"))
            .tempdir_in(&self.work_dir)
            .map_err(|e| FleetError::io(&self.work_dir, e))
    }
}

/// What a running task shares with its watcher.
#[derive(Clone)]
struct TaskWatch {
    job: String,
    cancel: Arc<AtomicBool>,
    frames: Arc<AtomicU64>,
    logs: Arc<StdMutex<Vec<(String, String)>>>,
}

impl TaskWatch {
    fn new(job: String) -> Self {
        Self {
            job,
            cancel: Arc::new(AtomicBool::new(false)),
            frames: Arc::new(AtomicU64::new(0)),
            logs: Arc::new(StdMutex::new(Vec::new())),
        }
    }

    /// Plugin log lines, kept for the watcher to publish as events.
    fn log_sink(&self) -> LogSink {
        let logs = self.logs.clone();
        Arc::new(move |line: &LogLine<'_>| {
            if let Ok(mut logs) = logs.lock()
                && logs.len() < 1000
            {
                logs.push((
                    format!("{:?}", line.level).to_lowercase(),
                    format!("{}: {}", line.source.name(), line.message),
                ));
            }
        })
    }
}

/// Calls `f` on the media names (`media:NAME`) of `plan` that a task of
/// `item` (or, for `None`, of the whole job) reads, replacing each with
/// what `f` returns, if anything.
fn collect_media(plan: &mut Plan, item: Option<usize>, mut f: impl FnMut(&str) -> Option<PathBuf>) {
    let mut visit = |path: &mut PathBuf| {
        if let Some(name) = media_name(path).map(str::to_string)
            && let Some(local) = f(&name)
        {
            *path = local;
        }
    };
    let wanted = |i: usize| item.is_none_or(|n| n == i);
    // Masks and logos are small: always.
    plan.spec.for_each_path_of(wanted, &mut visit);
    for (i, plan_item) in plan.items.iter_mut().enumerate() {
        if wanted(i) {
            visit(&mut plan_item.src);
        }
    }
}

/// The name of a job's output file: `output.<container>`.
fn output_file_name(plan: &Plan) -> String {
    let ext = plan
        .spec
        .output
        .container
        .as_deref()
        .and_then(framejet_media::Container::from_name)
        .map_or("mp4", framejet_media::Container::extension);
    format!("output.{ext}")
}

/// The key under the job's prefix (`segments/00001.mp4` of
/// `jobs/<id>/segments/00001.mp4`), checked to stay inside it.
fn local_key(job: &str, key: &str) -> Result<String, FleetError> {
    let prefix = job_key(job, "");
    key.strip_prefix(&prefix)
        .filter(|k| super::media::is_object_name(k))
        .map(str::to_string)
        .ok_or_else(|| malformed(format!("`{key}` is not a key of job {job}")))
}

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Seconds of `timeout_s` when the job is past its deadline.
fn overdue(record: &JobRecord) -> Option<u64> {
    let deadline = record.deadline_ms?;
    (now_ms() > deadline).then(|| record.spec.timeout_s.unwrap_or(0))
}

fn malformed(what: String) -> FleetError {
    FleetError::Job(JobError::Plan(crate::job::PlanError::Inconsistent(what)))
}

/// The `job_id` of a message that is otherwise malformed, if it has one.
fn job_id_of(payload: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let id = value.get("job_id")?.as_str()?;
    framejet_spec::fleet::is_token(id).then(|| id.to_string())
}

fn worker_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{nanos}-{}", std::process::id());
    let suffix = &super::media::sha256_hex(seed.as_bytes())[..6];
    format!("{}-{}-{suffix}", hostname(), std::process::id())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Physical memory in MiB (0 when unknown).
fn memory_mib() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Hands the pages a finished task freed back to the system. A segment's
/// decoder, encoder and plugin instances free hundreds of MB at its end;
/// left to the allocator, the next segment's buffers land among them in
/// another order and the worker's peak creeps up segment by segment.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory; it takes the
    // allocator's locks like any malloc call.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_up_marks_the_consumer_of_its_queue_and_priority() {
        let names = framejet_spec::fleet::FleetNames::new("fj").unwrap();
        let queues = vec!["default".to_string(), "4k".to_string()];
        let prefixes = task_prefixes(&queues, &names);
        let mut pending = vec![false; prefixes.len()];
        let subjects = [
            async_nats::Subject::from("fj.work.4k.normal.segment"),
            async_nats::Subject::from("fj.work.default.high.audio"),
            // Another fleet's, and a queue this worker does not serve.
            async_nats::Subject::from("other.work.default.low.segment"),
            async_nats::Subject::from("fj.work.4kx.low.segment"),
        ];
        mark_woken(&mut pending, &subjects, &prefixes);
        // Priority first (high, normal, low), then queue.
        assert_eq!(pending, [true, false, false, true, false, false]);
    }
}
