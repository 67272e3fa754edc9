//! The fleet end to end: a real nats-server with JetStream (one per test
//! binary, on a free loopback port, stopped with it), `framejet planner`
//! and `framejet worker` processes, jobs submitted with `framejet submit`,
//! from Python with nats-py, and as raw messages. Each test runs its own
//! fleet under its own prefix, so tests share the server without seeing
//! each other.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use framejet_tests::*;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Kills a child when the thread that started it ends (a test that panics
/// leaves no server or worker behind).
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "nats-server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A nats-server with JetStream on `port`, its store in `store`.
struct NatsServer {
    child: Child,
}

impl NatsServer {
    fn start(store: &Path, port: u16) -> Self {
        let mut cmd = Command::new("nats-server");
        cmd.args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .expect("nats-server on PATH (scripts/setup.sh installs it)");
        wait_port(port);
        Self { child }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the shared server keeps its streams: removed when the test binary
/// exits (the thread that owns it never ends, so its `TempDir` never drops).
static SHARED_STORE: OnceLock<std::path::PathBuf> = OnceLock::new();

extern "C" fn remove_shared_store() {
    if let Some(dir) = SHARED_STORE.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The URL of the server this test binary shares.
fn shared_nats() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        // The server lives as long as this thread, which lives as long as
        // the test binary.
        std::thread::spawn(move || {
            let dir = TempDir::new().unwrap();
            if SHARED_STORE.set(dir.path().to_path_buf()).is_ok() {
                // SAFETY: registers a plain function, run once at exit.
                unsafe { libc::atexit(remove_shared_store) };
            }
            let port = free_port();
            let server = NatsServer::start(dir.path(), port);
            tx.send(format!("nats://127.0.0.1:{port}")).unwrap();
            let _keep = (dir, server);
            loop {
                std::thread::park();
            }
        });
        rx.recv().unwrap()
    })
    .clone()
}

/// One test's fleet: a prefix of its own on a server, and the processes
/// it started (killed when it is dropped).
struct TestFleet {
    url: String,
    prefix: String,
    dir: TempDir,
    procs: Vec<(String, Child)>,
    max_attempts: u32,
}

impl TestFleet {
    fn new() -> Self {
        Self::on(shared_nats())
    }

    fn on(url: String) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let prefix = format!(
            "t{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Self {
            url,
            prefix,
            dir: TempDir::new().unwrap(),
            procs: Vec::new(),
            max_attempts: 3,
        }
    }

    /// The options every process of this fleet takes.
    fn fleet_args(&self) -> Vec<String> {
        [
            "--nats",
            &self.url,
            "--prefix",
            &self.prefix,
            "--ack-wait",
            "2s",
            "--max-attempts",
            &self.max_attempts.to_string(),
        ]
        .map(String::from)
        .to_vec()
    }

    fn spawn(&mut self, name: &str, args: &[String]) {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let mut cmd = Command::new(framejet_bin());
        cmd.args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log);
        die_with_parent(&mut cmd);
        self.procs.push((name.to_string(), cmd.spawn().unwrap()));
    }

    /// Starts `framejet worker --id <id>` with one slot and one encoder thread.
    fn worker(&mut self, id: &str) {
        self.worker_with(id, &[]);
    }

    fn worker_with(&mut self, id: &str, extra: &[&str]) {
        let mut args: Vec<String> = vec!["worker".into()];
        args.extend(self.fleet_args());
        args.extend(["--id", id, "--encoder-threads", "1", "--cache"].map(String::from));
        args.push(self.dir.path().join(id).display().to_string());
        if !extra.contains(&"--slots") {
            args.extend(["--slots", "1"].map(String::from));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        self.spawn(id, &args);
    }

    fn planner(&mut self) {
        let mut args: Vec<String> = vec!["planner".into()];
        args.extend(self.fleet_args());
        args.extend(["--encoder-threads", "1"].map(String::from));
        self.spawn("planner", &args);
    }

    fn signal(&mut self, name: &str, signal: i32) -> Child {
        let at = self
            .procs
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no process {name}"));
        let (_, child) = self.procs.remove(at);
        // SAFETY: signalling a child this test started.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        child
    }

    fn pid_of(&self, name: &str) -> u32 {
        self.procs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.id())
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    fn kill(&mut self, name: &str) {
        let mut child = self.signal(name, libc::SIGKILL);
        let _ = child.wait();
    }

    /// `framejet <command> <fleet options> <args>`.
    fn framejet(&self, command: &[&str], args: &[&str]) -> Output {
        Command::new(framejet_bin())
            .args(command)
            .args(self.fleet_args())
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    fn submit(&self, spec: &Path, id: &str) -> Output {
        self.framejet(&["submit"], &[spec.to_str().unwrap(), "--id", id])
    }

    fn record(&self, id: &str) -> Value {
        let out = self.framejet(&["status"], &[id, "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Polls job `id`'s record until `done(record)`.
    fn wait_until(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let out = self.framejet(&["status"], &[id, "--json"]);
            if out.status.success() {
                let record: Value = serde_json::from_slice(&out.stdout).unwrap();
                if done(&record) {
                    return record;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(120),
                    "job {id}: waited 120 s for {what}; record: {record:#}\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_final(&self, id: &str) -> Value {
        self.wait_until(id, "its end", |r| {
            matches!(r["state"].as_str(), Some("done" | "failed" | "cancelled"))
        })
    }

    fn wait_done(&self, id: &str) -> Value {
        let record = self.wait_final(id);
        assert_eq!(
            record["state"],
            "done",
            "job {id}: {record:#}\n{}",
            self.logs()
        );
        record
    }

    /// Downloads a finished job's output.
    fn output(&self, id: &str, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        runtime().block_on(async {
            let fleet = self.connect().await;
            let record = fleet.job_record(id).await.unwrap();
            framejet::fleet::download_output(&fleet, &record, &path, true)
                .await
                .unwrap();
        });
        path
    }

    async fn connect(&self) -> framejet::fleet::Fleet {
        let settings = framejet::fleet::FleetSettings {
            names: framejet_spec::fleet::FleetNames::new(&self.prefix).unwrap(),
            ack_wait: Duration::from_secs(2),
            max_attempts: self.max_attempts,
            ..Default::default()
        };
        let nats = framejet::fleet::NatsOptions {
            servers: vec![self.url.clone()],
            ..Default::default()
        };
        framejet::fleet::Fleet::connect(&nats, settings)
            .await
            .unwrap()
    }

    /// Messages left in the jobs and work streams.
    fn waiting_messages(&self) -> u64 {
        runtime().block_on(async {
            let fleet = self.connect().await;
            let mut total = 0;
            for name in [fleet.names().jobs_stream(), fleet.names().work_stream()] {
                let mut stream = fleet.jetstream().get_stream(&name).await.unwrap();
                total += stream.info().await.unwrap().state.messages;
            }
            total
        })
    }

    /// Waits until every submission and task has left the streams.
    /// Waits until the job and work streams hold nothing (a task is acked
    /// just after the record update it makes, so a job can be done a moment
    /// before its last task leaves the stream); fails after 60 s.
    fn wait_until_streams_empty(&self) {
        let start = Instant::now();
        while self.waiting_messages() > 0 {
            assert!(start.elapsed() < Duration::from_secs(60), "{}", self.logs());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Publishes raw bytes on a subject of this fleet's streams.
    fn publish(&self, subject: &str, payload: Vec<u8>) {
        runtime().block_on(async {
            let fleet = self.connect().await;
            fleet
                .jetstream()
                .publish(subject.to_string(), payload.into())
                .await
                .unwrap()
                .await
                .unwrap();
        });
    }

    /// What process `name` has logged so far.
    fn log_of(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Waits until process `name` logs a line containing `words`.
    fn wait_log(&self, name: &str, words: &str) {
        let start = Instant::now();
        while !self.log_of(name).contains(words) {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "waited 120 s for {name} to log {words:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn logs(&self) -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                all.push_str(&format!("--- {}\n", path.display()));
                for line in tail.into_iter().rev() {
                    all.push_str(line);
                    all.push('\n');
                }
            }
        }
        all
    }
}

impl Drop for TestFleet {
    fn drop(&mut self) {
        for (_, child) in &mut self.procs {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs the same spec with `framejet run`; returns the output.
fn run_locally(dir: &Path, spec: &Path, name: &str) -> PathBuf {
    let output = dir.join(name);
    let out = framejet(&[
        "run",
        spec.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--jobs",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    output
}

fn segment_workers(record: &Value) -> Vec<String> {
    record["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["worker"].as_str().unwrap_or("").to_string())
        .collect()
}

fn attempts(record: &Value) -> Vec<u64> {
    let mut all: Vec<u64> = record["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["attempts"].as_u64().unwrap())
        .collect();
    for task in ["audio", "finalize"] {
        if let Some(n) = record[task]["attempts"].as_u64() {
            all.push(n);
        }
    }
    all
}

/// A compilation (two clips of different sizes, a still, a logo and a
/// text overlay) and a watermark-removal job, lossless, each cut into
/// segments by the spec.
fn two_jobs(dir: &Path) -> (PathBuf, PathBuf) {
    let a = testsrc_clip(dir, "a.mp4", "320x240", 60, true);
    let b = testsrc_clip(dir, "b.mp4", "240x180", 60, false);
    let card = dir.join("card.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=200x200",
        "-frames:v",
        "1",
        card.to_str().unwrap(),
    ]);
    let logo = dir.join("logo.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=white@0.45:s=80x40,format=rgba",
        "-frames:v",
        "1",
        logo.to_str().unwrap(),
    ]);
    let segments = json!({"plugin": "segment-keyframes",
                          "params": {"min_segments": 2, "max_segments": 2, "min_frames": 1}});
    let compilation = write_job(
        dir,
        "compilation.json",
        &json!({
            "inputs": [
                {"src": a, "assets": {"logo": logo}},
                {"src": b, "assets": {"logo": logo}},
                {"src": card, "still_seconds": 0.5, "assets": {"logo": logo}}
            ],
            "steps": [
                {"native": "fit", "width": 320, "height": 240, "mode": "pad"},
                {"plugin": "overlay-logo", "params": {"asset": "logo", "corner": "top-right", "margin": 8}},
                {"plugin": "text-reveal", "params": {"words": ["FLEET"], "size": 24}}
            ],
            "segment": segments,
            "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "aac"}}
        }),
    );
    let marked = dir.join("marked.mkv");
    ffmpeg(&[
        "-i",
        a.to_str().unwrap(),
        "-i",
        logo.to_str().unwrap(),
        "-filter_complex",
        "[0:v][1:v]overlay=200:150:format=auto,format=yuv420p",
        "-c:v",
        "ffv1",
        "-an",
        marked.to_str().unwrap(),
    ]);
    let watermark = write_job(
        dir,
        "watermark.json",
        &json!({
            "inputs": [{"src": marked}],
            "steps": [{"native": "inpaint", "mask": {"rect": [200, 150, 80, 40]}, "logo": logo,
                       "write_mask": true}],
            "segment": {"plugin": "segment-keyframes",
                        "params": {"min_segments": 4, "max_segments": 4, "min_frames": 1}},
            "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        }),
    );
    (compilation, watermark)
}

#[test]
fn jobs_cut_into_segments_run_on_two_workers_frame_identical_to_framejet_run() {
    let mut fleet = TestFleet::new();
    let (compilation, watermark) = two_jobs(fleet.dir.path());
    fleet.planner();
    fleet.worker("wa");
    fleet.worker("wb");
    for (spec, id) in [(&compilation, "comp"), (&watermark, "wm")] {
        let out = fleet.submit(spec, id);
        assert!(out.status.success(), "{}", text(&out));
    }
    let mut workers = std::collections::BTreeSet::new();
    for (spec, id) in [(&compilation, "comp"), (&watermark, "wm")] {
        let record = fleet.wait_done(id);
        let segments = record["segments"].as_array().unwrap().len();
        assert!(segments >= 4, "{id}: {segments} segments");
        workers.extend(segment_workers(&record));
        let fleet_out = fleet.output(id, &format!("{id}.mkv"));
        let local = run_locally(fleet.dir.path(), spec, &format!("{id}-local.mkv"));
        let (a, b) = (frame_md5s(&fleet_out), frame_md5s(&local));
        assert!(!a.is_empty());
        assert_eq!(a, b, "{id}: the fleet's frames differ from framejet run's");
        assert_eq!(record["output"]["frames"].as_u64(), Some(a.len() as u64));
        // The mask PNG the spec asks for comes down beside the output, as
        // `framejet run` writes it.
        let mask = |out: &Path| PathBuf::from(format!("{}.mask.png", out.display()));
        if id == "wm" {
            let (fleet_mask, local_mask) = (mask(&fleet_out), mask(&local));
            assert!(fleet_mask.exists(), "the fleet's job wrote no mask");
            assert_eq!(
                std::fs::read(fleet_mask).unwrap(),
                std::fs::read(local_mask).unwrap()
            );
        } else {
            assert!(!mask(&fleet_out).exists());
        }
    }
    assert_eq!(
        workers.into_iter().collect::<Vec<_>>(),
        ["wa", "wb"],
        "both workers took segments"
    );
    fleet.wait_until_streams_empty();
}

#[test]
fn a_segment_encodes_to_the_same_bytes_on_any_worker() {
    // One job, the same id and spec, on two fleets with one worker each.
    let dir = TempDir::new().unwrap();
    let clip = testsrc_clip(dir.path(), "in.mp4", "320x240", 60, false);
    let spec = write_job(
        dir.path(),
        "job.json",
        &json!({
            "inputs": [{"src": clip}],
            "steps": [{"plugin": "text-reveal", "params": {"words": ["SAME"], "size": 24}}],
            "output": {"video": {"codec": "h264", "preset": "veryfast"}, "audio": {"codec": "none"}}
        }),
    );
    let mut packets = Vec::new();
    for worker in ["here", "there"] {
        let mut fleet = TestFleet::new();
        fleet.worker_with(worker, &["--planner"]);
        let out = fleet.submit(&spec, "same");
        assert!(out.status.success(), "{}", text(&out));
        let record = fleet.wait_done("same");
        assert!(segment_workers(&record).iter().all(|w| w == worker));
        let output = fleet.output("same", "out.mp4");
        // The H.264 packets themselves, not decoded frames.
        let md5 = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
            .arg(&output)
            .args(["-map", "0:v", "-c", "copy", "-f", "framemd5", "-"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let lines: Vec<String> = String::from_utf8_lossy(&md5.stdout)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(String::from)
            .collect();
        assert_eq!(lines.len(), 60);
        packets.push(lines);
    }
    assert_eq!(
        packets[0], packets[1],
        "the encoded bytes depend on the worker"
    );
}

const PYTHON_CLIENT: &str = r#"
import asyncio, json, sys
import nats

async def main(url, prefix, clip, job, out):
    nc = await nats.connect(url)
    js = nc.jetstream()
    media = await js.object_store(f"{prefix}-media")
    with open(clip, "rb") as f:
        await media.put("py/clip.mp4", f.read())
    events = []
    async def on_event(msg):
        events.append(json.loads(msg.data))
    await js.subscribe(f"{prefix}.events.{job}.*", ordered_consumer=True, cb=on_event)
    spec = {"inputs": [{"src": "media:py/clip.mp4"}],
            "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}
    submission = {"version": 1, "id": job, "spec": spec}
    await js.publish(f"{prefix}.jobs.submit", json.dumps(submission).encode(),
                     headers={"Nats-Msg-Id": job})
    states = []
    for _ in range(1200):
        states = [e["state"] for e in events if e["kind"] == "state"]
        if "done" in states or "failed" in states:
            break
        await asyncio.sleep(0.1)
    record = json.loads((await (await js.key_value(f"{prefix}-jobs")).get(job)).value)
    result = await media.get(record["output"]["key"])
    with open(out, "wb") as f:
        f.write(result.data)
    progress = [e for e in events if e["kind"] == "progress"]
    # The job's log, stored beside its output once the job has ended.
    log = None
    for _ in range(100):
        try:
            log = (await media.get(f"jobs/{job}/job.log")).data.decode()
            break
        except Exception:
            await asyncio.sleep(0.1)
    print(json.dumps({"states": states, "progress": len(progress), "state": record["state"],
                      "log": log}))
    await nc.close()

asyncio.run(main(*sys.argv[1:]))
"#;

#[test]
fn a_job_published_from_python_with_nats_py_completes_and_its_events_can_be_followed() {
    let mut fleet = TestFleet::new();
    fleet.worker_with("w", &["--planner"]);
    let clip = testsrc_clip(fleet.dir.path(), "clip.mp4", "320x240", 45, false);
    let script = fleet.dir.path().join("client.py");
    std::fs::write(&script, PYTHON_CLIENT).unwrap();
    let output = fleet.dir.path().join("from-python.mkv");
    let out = Command::new("python3")
        .arg(&script)
        .args([
            &fleet.url,
            &fleet.prefix,
            clip.to_str().unwrap(),
            "py-job",
            output.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", text(&out), fleet.logs());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["state"], "done", "{report}");
    let states: Vec<&str> = report["states"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(states.first(), Some(&"queued"), "{states:?}");
    assert_eq!(states.last(), Some(&"done"), "{states:?}");
    assert!(states.contains(&"running"), "{states:?}");
    assert!(report["progress"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(frame_md5s(&output).len(), 45);
    let log = report["log"].as_str().expect("the job's log is stored");
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].contains("job py-job submitted"), "{log}");
    assert!(
        lines.iter().any(|l| l.contains("segment 0 started on w")),
        "{log}"
    );
    assert!(lines.last().unwrap().ends_with("job done"), "{log}");
}

#[test]
fn the_same_job_id_runs_once_and_another_spec_under_it_is_refused() {
    let mut fleet = TestFleet::new();
    fleet.worker_with("w", &["--planner"]);
    let clip = testsrc_clip(fleet.dir.path(), "clip.mp4", "320x240", 30, false);
    let job = |codec: &str| {
        json!({"inputs": [{"src": clip}],
               "output": {"container": "mkv", "video": {"codec": codec}, "audio": {"codec": "none"}}})
    };
    let spec = write_job(fleet.dir.path(), "job.json", &job("ffv1"));
    for _ in 0..2 {
        let out = fleet.submit(&spec, "once");
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "once");
    }
    let record = fleet.wait_done("once");
    // And again once it is done: still the one job.
    let out = fleet.submit(&spec, "once");
    assert!(out.status.success(), "{}", text(&out));
    std::thread::sleep(Duration::from_secs(1));
    let again = fleet.record("once");
    assert_eq!(again["finished_at_ms"], record["finished_at_ms"]);
    assert!(attempts(&again).iter().all(|&n| n == 1), "{again:#}");

    let other = write_job(fleet.dir.path(), "other.json", &job("h264"));
    let out = fleet.submit(&other, "once");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("job id `once` is in use by another spec"),
        "{}",
        text(&out)
    );
    fleet.wait_until_streams_empty();

    // Purged, the id is free again, and its output is gone.
    let key = again["output"]["key"].as_str().unwrap().to_string();
    let out = fleet.framejet(&["cancel"], &["once", "--purge"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = fleet.framejet(&["status"], &["once"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no job `once`"), "{}", text(&out));
    runtime().block_on(async {
        let client = fleet.connect().await;
        let store = client
            .jetstream()
            .get_object_store(client.names().media_store())
            .await
            .unwrap();
        let gone = store.info(&key).await.is_ok_and(|i| i.deleted);
        assert!(gone, "{key} is still stored");
    });
    let out = fleet.submit(&other, "once");
    assert!(out.status.success(), "{}", text(&out));
    fleet.wait_done("once");
}

#[test]
fn a_cancelled_jobs_remaining_segments_are_never_processed() {
    let mut fleet = TestFleet::new();
    fleet.planner();
    let clip = testsrc_clip(fleet.dir.path(), "clip.mp4", "320x240", 90, false);
    let spec = write_job(
        fleet.dir.path(),
        "job.json",
        &json!({"inputs": [{"src": clip}],
                "segment": {"plugin": "segment-keyframes",
                            "params": {"min_segments": 6, "max_segments": 6, "min_frames": 1}},
                "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}),
    );
    let out = fleet.submit(&spec, "doomed");
    assert!(out.status.success(), "{}", text(&out));
    fleet.wait_until("doomed", "planning", |r| r["state"] == "running");
    let out = fleet.framejet(&["cancel"], &["doomed"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cancelled"));
    // Workers arrive after the cancel: they drop its tasks.
    fleet.worker("w");
    fleet.wait_until_streams_empty();
    let record = fleet.record("doomed");
    assert_eq!(record["state"], "cancelled");
    assert!(attempts(&record).iter().all(|&n| n == 0), "{record:#}");
    assert!(record["output"].is_null());
}

#[test]
fn a_high_priority_job_behind_ten_normal_ones_starts_first() {
    let mut fleet = TestFleet::new();
    fleet.planner();
    let clip = testsrc_clip(fleet.dir.path(), "clip.mp4", "320x240", 15, false);
    let job = |priority: &str| {
        json!({"inputs": [{"src": clip}], "priority": priority,
               "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}})
    };
    let normal = write_job(fleet.dir.path(), "normal.json", &job("normal"));
    let high = write_job(fleet.dir.path(), "high.json", &job("high"));
    let mut ids: Vec<String> = (0..10).map(|n| format!("normal-{n}")).collect();
    for id in &ids {
        assert!(fleet.submit(&normal, id).status.success());
    }
    assert!(fleet.submit(&high, "urgent").status.success());
    ids.push("urgent".into());
    for id in &ids {
        fleet.wait_until(id, "planning", |r| r["state"] == "running");
    }
    // One worker, one slot: it takes the high job's tasks first.
    fleet.worker("w");
    let started = |r: &Value| {
        r["segments"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["started_at_ms"].as_u64())
            .min()
            .unwrap()
    };
    let urgent = started(&fleet.wait_done("urgent"));
    for id in &ids[..10] {
        let normal = started(&fleet.wait_done(id));
        assert!(
            urgent < normal,
            "{id} started at {normal}, the high job at {urgent}"
        );
    }
}

/// A job whose one segment takes a while (so a test can catch it running).
fn long_job(dir: &Path, segments: u32) -> PathBuf {
    let clip = testsrc_clip(dir, "long.mp4", "640x480", 300, false);
    write_job(
        dir,
        "long.json",
        &json!({"inputs": [{"src": clip}],
                "steps": [{"plugin": "text-reveal", "params": {"words": ["SLOW"], "size": 48}}],
                "segment": {"plugin": "segment-keyframes",
                            "params": {"min_segments": segments, "max_segments": segments, "min_frames": 1}},
                "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}),
    )
}

fn running_on(record: &Value, worker: &str) -> bool {
    record["segments"].as_array().is_some_and(|s| {
        s.iter()
            .any(|s| s["state"] == "running" && s["worker"] == worker)
    })
}

#[test]
fn a_worker_killed_mid_segment_loses_nothing_and_the_output_is_frame_identical() {
    let mut fleet = TestFleet::new();
    let spec = long_job(fleet.dir.path(), 2);
    fleet.planner();
    fleet.worker("doomed");
    assert!(fleet.submit(&spec, "survivor").status.success());
    fleet.wait_until("survivor", "a segment on the doomed worker", |r| {
        running_on(r, "doomed")
    });
    fleet.kill("doomed");
    fleet.worker("rescuer");
    let record = fleet.wait_done("survivor");
    assert!(attempts(&record).contains(&2), "{record:#}");
    assert!(
        segment_workers(&record)
            .iter()
            .all(|w| w == "rescuer" || w == "doomed")
    );
    let output = fleet.output("survivor", "out.mkv");
    let local = run_locally(fleet.dir.path(), &spec, "local.mkv");
    assert_eq!(frame_md5s(&output), frame_md5s(&local));
    fleet.wait_until_streams_empty();
}

#[test]
fn a_job_survives_nats_server_killed_and_restarted_mid_job() {
    let store = TempDir::new().unwrap();
    let port = free_port();
    let mut server = NatsServer::start(store.path(), port);
    let mut fleet = TestFleet::on(format!("nats://127.0.0.1:{port}"));
    let spec = long_job(fleet.dir.path(), 3);
    fleet.worker_with("w", &["--planner"]);
    assert!(fleet.submit(&spec, "outage").status.success());
    fleet.wait_until("outage", "a running segment", |r| running_on(r, "w"));
    drop(server);
    std::thread::sleep(Duration::from_secs(2));
    server = NatsServer::start(store.path(), port);
    let record = fleet.wait_done("outage");
    assert_eq!(record["output"]["frames"], 300);
    let output = fleet.output("outage", "out.mkv");
    assert_eq!(frame_md5s(&output).len(), 300);
    drop(fleet);
    drop(server);
}

#[test]
fn a_hundred_jobs_on_two_workers_all_finish_none_lost_none_run_twice() {
    let mut fleet = TestFleet::new();
    let still = fleet.dir.path().join("still.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x64",
        "-frames:v",
        "1",
        still.to_str().unwrap(),
    ]);
    fleet.worker_with("wa", &["--planner", "--slots", "2"]);
    fleet.worker("wb");
    let spec: framejet::job::JobSpec = serde_json::from_value(json!({
        "inputs": [{"src": still, "still_seconds": 0.1}],
        "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
    }))
    .unwrap();
    let ids: Vec<String> = (0..100).map(|n| format!("many-{n}")).collect();
    runtime().block_on(async {
        let client = fleet.connect().await;
        for id in &ids {
            let options = framejet::fleet::SubmitOptions {
                id: Some(id.clone()),
                ..Default::default()
            };
            let submitted = framejet::fleet::submit_job(&client, spec.clone(), &options)
                .await
                .unwrap();
            assert!(submitted.created, "{id} existed already");
        }
    });
    for id in &ids {
        let record = fleet.wait_done(id);
        assert_eq!(record["output"]["frames"], 3, "{record:#}");
        assert!(attempts(&record).iter().all(|&n| n == 1), "{record:#}");
    }
    fleet.wait_until_streams_empty();
}

#[test]
fn malformed_tasks_fail_their_job_with_the_reason_and_the_worker_goes_on() {
    let mut fleet = TestFleet::new();
    fleet.planner();
    let clip = testsrc_clip(fleet.dir.path(), "clip.mp4", "320x240", 30, false);
    let spec = write_job(
        fleet.dir.path(),
        "job.json",
        &json!({"inputs": [{"src": clip}],
                "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}),
    );
    for id in ["bad-index", "bad-plugin", "bad-json"] {
        assert!(fleet.submit(&spec, id).status.success());
        fleet.wait_until(id, "planning", |r| r["state"] == "running");
    }
    let subject = format!("{}.work.default.high.segment", fleet.prefix);
    // Not JSON at all, without a job: dropped.
    fleet.publish(&subject, b"{not json".to_vec());
    // A segment the plan does not have.
    let plan = fleet.record("bad-index")["plan"].clone();
    fleet.publish(
        &subject,
        serde_json::to_vec(
            &json!({"version": 1, "job_id": "bad-index", "kind": "segment",
                                   "index": 99, "plan": plan}),
        )
        .unwrap(),
    );
    // A plan naming a plugin digest no one has.
    let (plan_key, digest) = runtime().block_on(async {
        let client = fleet.connect().await;
        let record = client.job_record("bad-plugin").await.unwrap();
        let plan_ref = record.plan.unwrap();
        let store = client
            .jetstream()
            .get_object_store(client.names().media_store())
            .await
            .unwrap();
        let mut object = store.get(&plan_ref.key).await.unwrap();
        let mut bytes = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut object, &mut bytes)
            .await
            .unwrap();
        let mut plan: Value = serde_json::from_slice(&bytes).unwrap();
        plan["plugins"]["route-by-size"] = json!("0".repeat(64));
        let forged = serde_json::to_vec(&plan).unwrap();
        let info = store
            .put("jobs/bad-plugin/forged-plan.json", &mut forged.as_slice())
            .await
            .unwrap();
        (info.name, info.digest.unwrap())
    });
    fleet.publish(
        &subject,
        serde_json::to_vec(
            &json!({"version": 1, "job_id": "bad-plugin", "kind": "segment",
                                   "index": 0, "plan": {"key": plan_key, "digest": digest}}),
        )
        .unwrap(),
    );
    // A task of a kind no worker knows.
    fleet.publish(
        &subject,
        serde_json::to_vec(&json!({"version": 1, "job_id": "bad-json", "kind": "explode"}))
            .unwrap(),
    );
    fleet.worker("w");
    for (id, says) in [
        ("bad-index", "segment 99"),
        ("bad-plugin", "digest"),
        ("bad-json", "malformed task"),
    ] {
        let record = fleet.wait_final(id);
        assert_eq!(record["state"], "failed", "{id}: {record:#}");
        let message = record["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{id}: {message}");
        assert_eq!(record["error"]["retryable"], false, "{id}: {record:#}");
    }
    // The worker is still serving.
    assert!(fleet.submit(&spec, "good").status.success());
    fleet.wait_done("good");
    fleet.wait_until_streams_empty();
}

#[test]
fn a_task_whose_worker_dies_every_time_fails_its_job_after_the_maximum_deliveries() {
    let mut fleet = TestFleet::new();
    fleet.max_attempts = 2;
    let spec = long_job(fleet.dir.path(), 1);
    fleet.planner();
    assert!(fleet.submit(&spec, "cursed").status.success());
    let mut generation = 0;
    let record = loop {
        let name = format!("w{generation}");
        fleet.worker(&name);
        let record = fleet.wait_until("cursed", "the segment to start or the job to end", |r| {
            running_on(r, &name) || r["state"] == "failed"
        });
        if record["state"] == "failed" {
            break record;
        }
        fleet.kill(&name);
        generation += 1;
        assert!(generation <= 4, "{record:#}");
    };
    assert_eq!(generation, 2, "two attempts, then the job fails");
    assert_eq!(record["error"]["kind"], "max_deliveries", "{record:#}");
    let message = record["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("segment 0 was started 2 times"),
        "{message}"
    );
    assert!(record["output"].is_null());
    fleet.wait_until_streams_empty();
}

#[test]
fn sigterm_lets_a_worker_finish_what_it_holds_and_nothing_is_lost() {
    let mut fleet = TestFleet::new();
    let spec = long_job(fleet.dir.path(), 3);
    fleet.planner();
    fleet.worker("leaving");
    assert!(fleet.submit(&spec, "handover").status.success());
    fleet.wait_until("handover", "a running segment", |r| {
        running_on(r, "leaving")
    });
    // Near the end of its segment it holds the next one, fetching its input.
    fleet.wait_log("leaving", "holding segment");
    let mut leaving = fleet.signal("leaving", libc::SIGTERM);
    let status = leaving.wait().unwrap();
    assert!(status.success(), "the worker exits cleanly: {status:?}");
    fleet.worker("staying");
    let record = fleet.wait_done("handover");
    let workers = segment_workers(&record);
    assert!(workers.contains(&"leaving".to_string()), "{workers:?}");
    assert!(workers.contains(&"staying".to_string()), "{workers:?}");
    // The segment it held went back as it was: no attempt is used up.
    assert!(attempts(&record).iter().all(|&n| n == 1), "{record:#}");
    assert_eq!(record["output"]["frames"], 300);
}

#[test]
fn a_busy_worker_fetches_the_input_of_its_next_task_before_a_slot_frees() {
    let mut fleet = TestFleet::new();
    let dir = fleet.dir.path().to_path_buf();
    let dir = dir.as_path();
    // The first segment runs long enough (several progress ticks) for its
    // end to be seen coming before it is there, however fast the machine.
    let a = testsrc_clip(dir, "first.mp4", "640x480", 450, false);
    let b = testsrc_clip(dir, "second.mp4", "320x240", 60, false);
    let spec = write_job(
        dir,
        "two.json",
        &json!({"inputs": [{"src": a}, {"src": b}],
                "steps": [{"native": "fit", "width": 640, "height": 480},
                          {"plugin": "text-reveal", "params": {"words": ["NEXT"], "size": 48}}],
                "segment": {"plugin": "segment-keyframes",
                            "params": {"min_segments": 1, "max_segments": 1, "min_frames": 1}},
                "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}),
    );
    fleet.planner();
    fleet.worker("busy");
    assert!(fleet.submit(&spec, "prefetched").status.success());
    let record = fleet.wait_done("prefetched");
    assert_eq!(record["segments"].as_array().unwrap().len(), 2);
    assert_eq!(segment_workers(&record), ["busy", "busy"]);
    let log = fleet.log_of("busy");
    let at = |words: &str| {
        log.find(words)
            .unwrap_or_else(|| panic!("no {words:?} in the log:\n{log}"))
    };
    // The second input came while the first segment ran.
    assert!(at("holding segment 1") < at("the input of segment 1 is here"));
    assert!(at("the input of segment 1 is here") < at("segment 1 (attempt 1)"));
    let fleet_out = fleet.output("prefetched", "prefetched.mkv");
    let local = run_locally(dir, &spec, "prefetched-local.mkv");
    assert_eq!(frame_md5s(&fleet_out), frame_md5s(&local));
    fleet.wait_until_streams_empty();
}

#[test]
fn cancelling_a_running_job_stops_its_segment_and_the_worker_goes_on() {
    let mut fleet = TestFleet::new();
    let spec = long_job(fleet.dir.path(), 3);
    fleet.worker_with("w", &["--planner"]);
    assert!(fleet.submit(&spec, "stopped").status.success());
    fleet.wait_until("stopped", "a running segment", |r| running_on(r, "w"));
    let out = fleet.framejet(&["cancel"], &["stopped"]);
    assert!(out.status.success(), "{}", text(&out));
    fleet.wait_until_streams_empty();
    let record = fleet.record("stopped");
    assert_eq!(record["state"], "cancelled");
    let done = record["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "done")
        .count();
    assert!(done < 3, "{record:#}");
    assert!(record["output"].is_null());
    // The same worker serves the next job.
    let clip = testsrc_clip(fleet.dir.path(), "next.mp4", "320x240", 15, false);
    let next = write_job(
        fleet.dir.path(),
        "next.json",
        &json!({"inputs": [{"src": clip}],
                "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}),
    );
    assert!(fleet.submit(&next, "after").status.success());
    fleet.wait_done("after");
}

#[test]
fn a_job_past_its_timeout_fails_across_the_fleet() {
    let mut fleet = TestFleet::new();
    let dir = fleet.dir.path().to_path_buf();
    let spec = long_job(&dir, 3);
    let mut job: Value = serde_json::from_str(&std::fs::read_to_string(&spec).unwrap()).unwrap();
    job["timeout_s"] = json!(1);
    let spec = write_job(&dir, "hurried.json", &job);
    fleet.worker_with("w", &["--planner"]);
    assert!(fleet.submit(&spec, "hurried").status.success());
    let record = fleet.wait_final("hurried");
    assert_eq!(record["state"], "failed", "{record:#}");
    assert_eq!(record["error"]["kind"], "timed_out", "{record:#}");
    assert!(
        record["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timed out after 1 s"),
        "{record:#}"
    );
}

#[test]
fn a_pushed_plugin_runs_on_workers_that_lack_it_and_a_bad_one_is_refused() {
    let mut fleet = TestFleet::new();
    let wasm = std::env::var_os("FRAMEJET_PLUGIN_PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join("invert_luma.wasm"))
        .find(|p| p.is_file())
        .expect("invert_luma.wasm on FRAMEJET_PLUGIN_PATH (scripts/test.sh sets it)");
    let out = fleet.framejet(
        &["plugin", "push"],
        &[
            wasm.to_str().unwrap(),
            "--name",
            "my-invert",
            "--version",
            "1.0.0",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pushed my-invert@1.0.0"));
    let garbage = fleet.dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"not a component").unwrap();
    let out = fleet.framejet(
        &["plugin", "push"],
        &[garbage.to_str().unwrap(), "--version", "1"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("is not usable"), "{}", text(&out));

    fleet.worker_with("w", &["--planner"]);
    let clip = testsrc_clip(fleet.dir.path(), "clip.mp4", "320x240", 20, false);
    let job = |plugin: &str| {
        json!({"inputs": [{"src": clip}],
               "steps": [{"plugin": plugin}],
               "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}})
    };
    let pinned = write_job(fleet.dir.path(), "pinned.json", &job("my-invert@1.0.0"));
    assert!(fleet.submit(&pinned, "pinned").status.success());
    fleet.wait_done("pinned");
    let output = fleet.output("pinned", "pinned.mkv");
    let local_spec = write_job(fleet.dir.path(), "local.json", &job("invert-luma"));
    let local = run_locally(fleet.dir.path(), &local_spec, "local.mkv");
    assert_eq!(frame_md5s(&output), frame_md5s(&local));

    let missing = write_job(fleet.dir.path(), "missing.json", &job("my-invert@9.9.9"));
    assert!(fleet.submit(&missing, "missing").status.success());
    let record = fleet.wait_final("missing");
    assert_eq!(record["state"], "failed");
    assert!(
        record["error"]["message"]
            .as_str()
            .unwrap()
            .contains("my-invert@9.9.9"),
        "{record:#}"
    );
}

#[test]
fn framejet_up_runs_a_fleet_that_takes_a_job_and_ctrl_c_removes_it() {
    let dir = TempDir::new().unwrap();
    let mut cmd = Command::new(framejet_bin());
    cmd.args(["up", "--workers", "1", "--slots", "1"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    die_with_parent(&mut cmd);
    let mut up = cmd.spawn().unwrap();
    let mut stdout = std::io::BufReader::new(up.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("nats://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    let store = first
        .split("JetStream in ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no directory in {first:?}"));
    assert!(store.is_dir());
    let gateway = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(|w| w.trim_end_matches('.').to_string())
        .unwrap_or_else(|| panic!("no gateway URL in {first:?}"));
    let health = http().get(format!("{gateway}/healthz")).call().unwrap();
    assert_eq!(health.status(), 200);

    let clip = testsrc_clip(dir.path(), "clip.mp4", "320x240", 20, false);
    let spec = write_job(dir.path(), "job.json", &json!({"inputs": [{"src": clip}]}));
    let output = dir.path().join("out.mkv");
    let out = Command::new(framejet_bin())
        .args([
            "submit",
            "--nats",
            &url,
            spec.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(frame_md5s(&output).len(), 20);

    // SAFETY: signalling the child this test started.
    unsafe {
        libc::kill(up.id() as i32, libc::SIGINT);
    }
    let status = up.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!store.exists(), "{} is left behind", store.display());
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let port: u16 = gateway.rsplit(':').next().unwrap().parse().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_task_waits_for_a_worker_with_the_capability_its_route_asks_for() {
    let mut fleet = TestFleet::new();
    fleet.planner();
    fleet.worker("plain");
    let clip = testsrc_clip(fleet.dir.path(), "clip.mp4", "320x240", 15, false);
    let spec = write_job(
        fleet.dir.path(),
        "gpu.json",
        &json!({"inputs": [{"src": clip}],
                "route": {"plugin": "route-by-size", "params": {"default_capabilities": ["gpu"]}},
                "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}),
    );
    assert!(fleet.submit(&spec, "needs-gpu").status.success());
    fleet.wait_until("needs-gpu", "planning", |r| r["state"] == "running");
    // Longer than every attempt the task has, were hand-backs counted.
    std::thread::sleep(Duration::from_secs(5));
    let record = fleet.record("needs-gpu");
    assert_eq!(record["state"], "running", "{record:#}");
    assert!(attempts(&record).iter().all(|&n| n == 0), "{record:#}");
    fleet.worker_with("gpu", &["--capabilities", "gpu"]);
    let record = fleet.wait_done("needs-gpu");
    assert!(
        segment_workers(&record).iter().all(|w| w == "gpu"),
        "{record:#}"
    );
}

#[test]
fn an_input_given_as_a_url_is_fetched_once_by_the_planner() {
    let mut fleet = TestFleet::new();
    let served = fleet.dir.path().join("www");
    std::fs::create_dir_all(&served).unwrap();
    testsrc_clip(&served, "clip.mp4", "320x240", 20, false);
    let port = free_port();
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "http.server",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--directory",
    ])
    .arg(&served)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    die_with_parent(&mut cmd);
    fleet.procs.push(("http".into(), cmd.spawn().unwrap()));
    wait_port(port);
    fleet.worker_with("w", &["--planner"]);
    let job = |file: &str| {
        json!({"inputs": [{"src": format!("http://127.0.0.1:{port}/{file}")}],
               "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}})
    };
    let spec = write_job(fleet.dir.path(), "url.json", &job("clip.mp4"));
    assert!(fleet.submit(&spec, "from-url").status.success());
    let record = fleet.wait_done("from-url");
    assert_eq!(record["output"]["frames"], 20);
    let output = fleet.output("from-url", "out.mkv");
    assert_eq!(frame_md5s(&output), frame_md5s(&served.join("clip.mp4")));

    let missing = write_job(fleet.dir.path(), "missing.json", &job("nope.mp4"));
    assert!(fleet.submit(&missing, "no-such-url").status.success());
    let record = fleet.wait_final("no-such-url");
    assert_eq!(record["state"], "failed");
    assert_eq!(record["error"]["kind"], "input", "{record:#}");
    assert!(
        record["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 404"),
        "{record:#}"
    );
}

#[test]
fn a_high_priority_task_goes_before_the_task_a_busy_worker_holds() {
    let mut fleet = TestFleet::new();
    let dir = fleet.dir.path().to_path_buf();
    let dir = dir.as_path();
    let long = testsrc_clip(dir, "long.mp4", "640x480", 900, false);
    let short = testsrc_clip(dir, "short.mp4", "320x240", 15, false);
    let slow = write_job(
        dir,
        "slow.json",
        &json!({"inputs": [{"src": long}],
                "steps": [{"plugin": "text-reveal", "params": {"words": ["HELD"], "size": 48}}],
                "segment": {"plugin": "segment-keyframes",
                            "params": {"min_segments": 2, "max_segments": 2, "min_frames": 1}},
                // A slow encoder: the last quarter of segment 0 must outlast submitting and
                // planning the high job, however fast the machine.
                "output": {"container": "mkv", "video": {"codec": "h264", "preset": "slower"},
                           "audio": {"codec": "none"}}}),
    );
    let urgent = write_job(
        dir,
        "urgent.json",
        &json!({"inputs": [{"src": short}], "priority": "high",
                "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}),
    );
    fleet.planner();
    fleet.worker("w");
    assert!(fleet.submit(&slow, "slow").status.success());
    // Three quarters into segment 0 the one-slot worker holds segment 1.
    fleet.wait_log("w", "holding segment 1");
    assert!(fleet.submit(&urgent, "urgent").status.success());
    fleet.wait_until("urgent", "planning", |r| r["state"] == "running");
    let record = fleet.record("slow");
    assert_eq!(
        record["segments"][0]["state"], "running",
        "segment 0 ended before the high job was queued; the test needs a longer segment"
    );
    let started = |r: &Value, n: usize| r["segments"][n]["started_at_ms"].as_u64().unwrap();
    let urgent = fleet.wait_done("urgent");
    let slow = fleet.wait_done("slow");
    // The freed slot took the high job; the held segment waited for the next.
    assert!(
        started(&urgent, 0) < started(&slow, 1),
        "urgent started at {}, the held segment at {}",
        started(&urgent, 0),
        started(&slow, 1)
    );
    assert!(
        attempts(&slow).iter().all(|&n| n == 1),
        "holding costs no attempt: {slow:#}"
    );
    fleet.wait_until_streams_empty();
}

// ---------------------------------------------------------------- gateway

/// An HTTP client that hands back error statuses as answers.
fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A gateway answer: status, headers and body.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap(),
    }
}

/// A gateway of `fleet` on a free port, with `tokens` (owner, role) in its
/// tokens file; returns its URL and each token.
fn start_gateway(fleet: &mut TestFleet, tokens: &[(&str, &str)]) -> (String, Vec<String>) {
    start_gateway_with(fleet, tokens, &[])
}

/// [`start_gateway`] with more arguments to `framejet gateway`.
fn start_gateway_with(
    fleet: &mut TestFleet,
    tokens: &[(&str, &str)],
    extra: &[String],
) -> (String, Vec<String>) {
    let mut file = String::new();
    let mut secrets = Vec::new();
    for (owner, role) in tokens {
        let made = Command::new(framejet_bin())
            .args(["token", "--role", role, "--owner", owner])
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", text(&made));
        file.push_str(&String::from_utf8(made.stdout).unwrap());
        file.push('\n');
        let said = String::from_utf8(made.stderr).unwrap();
        secrets.push(said.trim().rsplit(' ').next().unwrap().to_string());
    }
    let tokens_file = fleet.dir.path().join("tokens.toml");
    std::fs::write(&tokens_file, file).unwrap();
    let secret_file = fleet.dir.path().join("webhook.secret");
    std::fs::write(&secret_file, format!("{WEBHOOK_SECRET}\n")).unwrap();
    let port = free_port();
    let mut args: Vec<String> = vec!["gateway".into()];
    args.extend(fleet.fleet_args());
    args.extend([
        "--listen".to_string(),
        format!("127.0.0.1:{port}"),
        "--tokens".to_string(),
        tokens_file.display().to_string(),
        "--webhook-secret".to_string(),
        secret_file.display().to_string(),
    ]);
    if !extra.iter().any(|a| a == "--max-upload") {
        args.extend(["--max-upload".to_string(), "256MiB".to_string()]);
    }
    args.extend_from_slice(extra);
    fleet.spawn("gateway", &args);
    wait_port(port);
    (format!("http://127.0.0.1:{port}"), secrets)
}

/// What the test gateways sign webhooks with.
const WEBHOOK_SECRET: &str = "test-secret-0123456789abcdef";

/// A webhook receiver on a free loopback port: it keeps each request's
/// headers (lower-case names) and body, and answers 503 to the first and
/// 200 to the rest.
struct Receiver {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

/// A request a [`Receiver`] took: its headers (lower-case names) and body.
type Received = (Vec<(String, String)>, Vec<u8>);

impl Receiver {
    fn start() -> Self {
        use std::io::{BufRead, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen: std::sync::Arc<std::sync::Mutex<Vec<_>>> = Default::default();
        let kept = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
                    }
                }
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let first = {
                    let mut seen = kept.lock().unwrap();
                    seen.push((headers, body));
                    seen.len() == 1
                };
                let status = if first {
                    "503 Service Unavailable"
                } else {
                    "200 OK"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Self { url, seen }
    }

    /// The requests so far, once there are `n` (or after 60 s).
    fn wait_for(&self, n: usize) -> Vec<Received> {
        let start = Instant::now();
        while self.seen.lock().unwrap().len() < n && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.seen.lock().unwrap().clone()
    }
}

/// Whether `signature` (`t=…,v1=…`) signs `body` under [`WEBHOOK_SECRET`].
fn signed(signature: &str, body: &[u8]) -> bool {
    use hmac::Mac;
    let Some((t, v1)) = signature
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex == v1
}

/// The Server-Sent Events of one answer: (id, event name, data).
fn read_sse(response: ureq::http::Response<ureq::Body>) -> Vec<(Option<u64>, String, Value)> {
    use std::io::BufRead;
    let mut events = Vec::new();
    let (mut id, mut name, mut data) = (None, String::new(), String::new());
    let reader = std::io::BufReader::new(response.into_body().into_reader());
    for line in reader.lines() {
        let line = line.unwrap();
        if line.is_empty() {
            if !data.is_empty() {
                events.push((
                    id.take(),
                    std::mem::take(&mut name),
                    serde_json::from_str(&data).unwrap(),
                ));
                data.clear();
            }
            continue;
        }
        if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            name = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    events
}

/// One request and its answer, as a gateway client saw them.
struct Exchange {
    method: String,
    path: String,
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// A gateway client that keeps every exchange, to check them all against
/// the gateway's OpenAPI document at the end of a test.
struct Api {
    agent: ureq::Agent,
    url: String,
    seen: std::cell::RefCell<Vec<Exchange>>,
}

impl Api {
    fn new(url: &str) -> Self {
        Self {
            agent: http(),
            url: url.to_string(),
            seen: Default::default(),
        }
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> ureq::http::request::Builder {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Answer {
        let request = self.request(method, path, token, headers);
        let response = match body {
            Some(body) => self.agent.run(request.body(body.to_vec()).unwrap()),
            None => self.agent.run(request.body(()).unwrap()),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let answer = answer(response);
        self.seen.borrow_mut().push(Exchange {
            method: method.to_string(),
            path: path.to_string(),
            status: answer.status,
            content_type: answer.header("content-type").to_string(),
            body: answer.body.clone(),
        });
        answer
    }

    fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), &[], None)
    }

    /// A job's Server-Sent Events, to their end.
    fn events(
        &self,
        path: &str,
        token: &str,
        after: Option<u64>,
    ) -> Vec<(Option<u64>, String, Value)> {
        let after = after.map(|a| a.to_string());
        let headers: Vec<(&str, &str)> = after
            .iter()
            .map(|a| ("Last-Event-ID", a.as_str()))
            .collect();
        let request = self.request("GET", path, Some(token), &headers);
        let response = self.agent.run(request.body(()).unwrap()).unwrap();
        self.seen.borrow_mut().push(Exchange {
            method: "GET".into(),
            path: path.to_string(),
            status: response.status().as_u16(),
            content_type: response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            body: Vec::new(),
        });
        read_sse(response)
    }

    /// Checks every exchange against `/openapi.json`: each was a documented
    /// operation, each answer a documented response whose JSON validates
    /// against its schema (errors against the problem schema), and every
    /// documented response was seen.
    fn check_against_openapi(&self) {
        let doc = self.call("GET", "/openapi.json", None, &[], None).json();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        let mut documented = std::collections::BTreeSet::new();
        for (template, ops) in paths {
            for (method, op) in ops.as_object().unwrap() {
                for status in op["responses"].as_object().unwrap().keys() {
                    if status != "default" {
                        documented.insert((template.clone(), method.clone(), status.clone()));
                    }
                }
            }
        }
        let mut covered = std::collections::BTreeSet::new();
        for e in self.seen.borrow().iter() {
            let path = e.path.split('?').next().unwrap();
            let method = e.method.to_ascii_lowercase();
            let (template, op) = paths
                .iter()
                .find(|(template, ops)| {
                    matches_template(template, path) && ops.get(&method).is_some()
                })
                .map(|(t, ops)| (t.clone(), &ops[&method]))
                .unwrap_or_else(|| panic!("{} {path} is served but not documented", e.method));
            let status = e.status.to_string();
            let response = match op["responses"].get(&status) {
                Some(r) => {
                    covered.insert((template.clone(), method.clone(), status.clone()));
                    r
                }
                None => {
                    assert!(
                        e.status >= 400,
                        "{} {path}: {status} is not documented",
                        e.method
                    );
                    &op["responses"]["default"]
                }
            };
            let Some(content) = response.get("content").and_then(Value::as_object) else {
                assert!(
                    e.body.is_empty(),
                    "{} {path}: {status} has a body",
                    e.method
                );
                continue;
            };
            for (kind, media) in content {
                if kind.contains("json") {
                    assert!(
                        e.content_type.starts_with(kind.as_str()),
                        "{} {path}: {} for {kind}",
                        e.method,
                        e.content_type
                    );
                    let body: Value = serde_json::from_slice(&e.body).unwrap();
                    let mut schema = json!({
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "allOf": [media["schema"]],
                    });
                    schema["components"] = doc["components"].clone();
                    let validator = jsonschema::validator_for(&schema).unwrap();
                    if let Err(error) = validator.validate(&body) {
                        panic!("{} {path} ({status}): {error}\n{body:#}", e.method);
                    }
                } else if kind == "text/event-stream" {
                    assert!(e.content_type.starts_with(kind.as_str()));
                }
            }
        }
        let missing: Vec<_> = documented.difference(&covered).collect();
        assert!(
            missing.is_empty(),
            "documented, never exercised: {missing:?}"
        );
    }
}

/// A `multipart/form-data` body of (name, file name, bytes) parts, and its
/// content type.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "framejet-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match file_name {
            Some(file) => format!("form-data; name=\"{name}\"; filename=\"{file}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Whether `path` is an instance of the OpenAPI path `template` (the media
/// routes' `{name}` may hold slashes).
fn matches_template(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if template.starts_with("/v1/media/") {
        return p.len() >= t.len() && path.starts_with("/v1/media/");
    }
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

#[test]
fn the_gateway_takes_a_job_over_http_only_and_keeps_owners_apart() {
    let mut fleet = TestFleet::new();
    let (url, tokens) = start_gateway(
        &mut fleet,
        &[
            ("alice", "submit"),
            ("bob", "submit"),
            ("alice", "read"),
            ("ops", "admin"),
        ],
    );
    let (alice, bob, reader, admin) = (
        tokens[0].as_str(),
        tokens[1].as_str(),
        tokens[2].as_str(),
        tokens[3].as_str(),
    );
    let api = Api::new(&url);

    // Alive and ready, whoever asks.
    assert_eq!(api.call("GET", "/healthz", None, &[], None).status, 200);
    assert_eq!(
        api.call("GET", "/readyz", None, &[], None).json()["ready"],
        true
    );

    // Refusals, each with a problem document, none changing anything.
    let none = api.call("GET", "/v1/jobs", None, &[], None);
    assert_eq!(none.status, 401);
    assert_eq!(none.header("content-type"), "application/problem+json");
    assert_eq!(none.json()["type"], "/problems/unauthorized");
    let clip = testsrc_clip(fleet.dir.path(), "clip.mp4", "320x240", 30, false);
    let bytes = std::fs::read(&clip).unwrap();
    let put = |name: &str, token: &str, body: &[u8]| {
        api.call(
            "PUT",
            &format!("/v1/media/{name}"),
            Some(token),
            &[],
            Some(body),
        )
    };
    // A refusal comes before the body is read: these send a byte.
    assert_eq!(put("clip.mp4", reader, b"x").status, 403);
    assert_eq!(put("a/%2E%2E/%2E%2E/bob/clip.mp4", alice, b"x").status, 400);
    // Over the limit: refused from its Content-Length, before anything is sent.
    assert_eq!(
        status_of_put_headers(&url, "big.bin", alice, 300 << 20),
        413
    );
    assert_eq!(
        api.get("/v1/media/big.bin", alice).status,
        404,
        "nothing of it stays"
    );

    // Upload, then a malformed spec (422, naming the field), then the job.
    let uploaded = put("clips/clip.mp4", alice, &bytes);
    assert_eq!(
        uploaded.status,
        200,
        "{}",
        String::from_utf8_lossy(&uploaded.body)
    );
    assert_eq!(uploaded.json()["size"], bytes.len());
    let sum = Command::new("sha256sum").arg(&clip).output().unwrap();
    let sum = String::from_utf8(sum.stdout).unwrap();
    assert_eq!(uploaded.json()["sha256"], sum.split(' ').next().unwrap());
    let post = |token: &str, spec: &Value| {
        api.call(
            "POST",
            "/v1/jobs",
            Some(token),
            &[("Content-Type", "application/json")],
            Some(spec.to_string().as_bytes()),
        )
    };
    let bad = post(
        alice,
        &json!({"inputs": [{"src": "media:clips/clip.mp4"}],
                                 "output": {"video": {"codec": "nope"}}}),
    );
    assert_eq!(bad.status, 422);
    assert!(
        bad.json()["detail"]
            .as_str()
            .unwrap()
            .contains("output.video.codec"),
        "{}",
        bad.json()
    );
    // A plugin's refusal of its params, named as `framejet run` names it.
    let corner = post(
        alice,
        &json!({"inputs": [{"src": "media:clips/clip.mp4", "assets": {"logo": "media:logo.png"}}],
                "steps": [{"native": "fit", "width": 320, "height": 240},
                          {"plugin": "overlay-logo", "params": {"asset": "logo", "corner": "middle"}}]}),
    );
    assert_eq!(
        corner.status,
        422,
        "{}",
        String::from_utf8_lossy(&corner.body)
    );
    let detail = corner.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.starts_with("steps[1].params.corner: expected one of top-left")
            && detail.contains("(plugin `overlay-logo`)"),
        "{detail}"
    );
    let no_asset = post(
        alice,
        &json!({"inputs": [{"src": "media:clips/clip.mp4"}],
                "steps": [{"plugin": "overlay-logo", "params": {"asset": "logo"}}]}),
    );
    assert_eq!(no_asset.status, 422);
    assert!(
        no_asset.json()["detail"]
            .as_str()
            .unwrap()
            .contains("steps[0].params.asset"),
        "{}",
        no_asset.json()
    );
    // A plugin that draws when created (text-reveal) still has its params read.
    let size = post(
        alice,
        &json!({"inputs": [{"src": "media:clips/clip.mp4"}],
                "steps": [{"plugin": "text-reveal", "params": {"words": ["HI"], "size": "big"}}]}),
    );
    assert_eq!(size.status, 422);
    assert!(
        size.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("steps[0].params.size"),
        "{}",
        size.json()
    );
    let local = post(alice, &json!({"inputs": [{"src": clip}]}));
    assert_eq!(
        local.status, 422,
        "a path on the gateway's machine is refused"
    );
    assert_eq!(
        post(
            reader,
            &json!({"inputs": [{"src": "media:clips/clip.mp4"}]})
        )
        .status,
        403
    );
    let output =
        json!({"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}});
    let segments = json!({"plugin": "segment-keyframes",
                          "params": {"min_segments": 2, "max_segments": 2, "min_frames": 1}});
    let job = json!({"id": "web-1", "inputs": [{"src": "media:clips/clip.mp4"}],
                     "steps": [{"plugin": "text-reveal", "params": {"words": ["HTTP"], "size": 24}}],
                     "segment": segments, "output": output});
    let receiver = Receiver::start();
    let with_webhook = |url: &str| {
        api.call(
            "POST",
            &format!("/v1/jobs?webhook={url}"),
            Some(alice),
            &[("Content-Type", "application/json")],
            Some(job.to_string().as_bytes()),
        )
    };
    assert_eq!(with_webhook("ftp%3A%2F%2Fexample.com%2F").status, 400);
    let created = with_webhook(&receiver.url.replace(':', "%3A").replace('/', "%2F"));
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(created.header("location"), "/v1/jobs/web-1");
    assert_eq!(created.json()["owner"], "alice");
    // Another owner cannot see it, take its id or cancel it.
    assert_eq!(api.get("/v1/jobs/web-1", bob).status, 404);
    let taken = post(
        bob,
        &json!({"id": "web-1", "inputs": [{"src": "https://example.invalid/a.mp4"}]}),
    );
    assert_eq!(taken.status, 409);
    assert_eq!(
        api.call("DELETE", "/v1/jobs/web-1", Some(bob), &[], None)
            .status,
        404
    );
    // A job cancelled before it ran, retried once there are workers.
    let doomed = post(
        alice,
        &json!({"id": "web-2", "inputs": [{"src": "media:clips/clip.mp4"}], "output": output}),
    );
    assert_eq!(doomed.status, 201);
    let again = post(
        alice,
        &json!({"id": "web-2", "inputs": [{"src": "media:clips/clip.mp4"}], "output": output}),
    );
    assert_eq!(
        (again.status, &again.json()["state"]),
        (200, &json!("queued")),
        "the same job again is not a new one"
    );
    let retry = |id: &str, token: &str| {
        api.call(
            "POST",
            &format!("/v1/jobs/{id}/retry"),
            Some(token),
            &[],
            Some(b""),
        )
    };
    assert_eq!(
        retry("web-2", alice).status,
        409,
        "a queued job is not retried"
    );
    let cancelled = api.call("DELETE", "/v1/jobs/web-2", Some(alice), &[], None);
    assert_eq!(cancelled.json()["state"], "cancelled");

    fleet.worker_with("wa", &["--planner"]);
    fleet.worker("wb");
    let again = retry("web-2", alice);
    assert_eq!(
        again.status,
        201,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
    assert_eq!(again.json()["id"], "web-2-retry-1");
    assert_eq!(again.header("location"), "/v1/jobs/web-2-retry-1");

    // Plugins: admin only, checked before they are stored.
    let wasm = std::env::var_os("FRAMEJET_PLUGIN_PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join("invert_luma.wasm"))
        .find(|p| p.exists())
        .expect("invert_luma.wasm on FRAMEJET_PLUGIN_PATH");
    let wasm = std::fs::read(wasm).unwrap();
    let push = |token: &str, body: &[u8]| {
        api.call(
            "PUT",
            "/v1/plugins/my-invert?version=1.2.0",
            Some(token),
            &[],
            Some(body),
        )
    };
    assert_eq!(push(alice, &wasm).status, 403);
    let junk = push(admin, b"not a component");
    assert_eq!(junk.status, 422, "{}", String::from_utf8_lossy(&junk.body));
    let pushed = push(admin, &wasm);
    assert_eq!(
        pushed.status,
        200,
        "{}",
        String::from_utf8_lossy(&pushed.body)
    );
    assert_eq!(pushed.json()["version"], "1.2.0");
    assert_eq!(pushed.json()["digest"].as_str().unwrap().len(), 64);

    // Its events, in order, to the end.
    let events = api.events("/v1/jobs/web-1/events", alice, None);
    let ids: Vec<u64> = events
        .iter()
        .map(|(id, _, _)| id.expect("every event has an id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let (_, name, last) = events.last().unwrap();
    assert_eq!(
        (name.as_str(), &last["state"]),
        ("state", &json!("done")),
        "{events:?}"
    );
    assert!(events.iter().any(|(_, n, _)| n == "progress"));
    // Resumed after the third: the rest, none missed.
    let resumed = api.events("/v1/jobs/web-1/events", alice, Some(ids[2]));
    let resumed_ids: Vec<u64> = resumed.iter().filter_map(|(id, _, _)| *id).collect();
    assert_eq!(resumed_ids, ids[3..]);

    // The record, the list, the workers, the queues; the same job again is the same job.
    let record = api.get("/v1/jobs/web-1", reader).json();
    assert_eq!(record["state"], "done");
    let same = post(alice, &job);
    assert_eq!((same.status, &same.json()["state"]), (200, &json!("done")));
    let listed = api.get("/v1/jobs?state=done", alice).json();
    assert!(
        listed["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == "web-1")
    );
    assert!(
        api.get("/v1/jobs", bob).json()["jobs"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let workers = api.get("/v1/workers", reader).json();
    let ids_seen: Vec<&str> = workers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(ids_seen, ["wa", "wb"]);
    let queues = api.get("/v1/queues", reader).json();
    let default = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "default")
        .unwrap_or_else(|| panic!("{queues:#}"));
    assert_eq!(default["workers"], 2, "{queues:#}");
    assert!(default["waiting"]["high"].is_u64(), "{queues:#}");
    let retried = fleet.wait_done("web-2-retry-1");
    assert_eq!(retried["owner"], "alice");

    // The output: whole, frame-identical to `framejet run`; a range; its ETag.
    let whole = api.get("/v1/jobs/web-1/output", alice);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("content-type"), "video/x-matroska");
    let fetched = fleet.dir.path().join("web-1.mkv");
    std::fs::write(&fetched, &whole.body).unwrap();
    let mut local_job = job.clone();
    local_job["inputs"][0]["src"] = json!(clip);
    let local_spec = write_job(fleet.dir.path(), "web-local.json", &local_job);
    let local = run_locally(fleet.dir.path(), &local_spec, "web-local.mkv");
    assert_eq!(frame_md5s(&fetched), frame_md5s(&local));
    let part = api.call(
        "GET",
        "/v1/jobs/web-1/output",
        Some(alice),
        &[("Range", "bytes=100-1123")],
        None,
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, whole.body[100..1124]);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 100-1123/{}", whole.body.len())
    );
    let etag = whole.header("etag").to_string();
    assert!(!etag.is_empty());
    let unchanged = api.call(
        "GET",
        "/v1/jobs/web-1/output",
        Some(alice),
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(unchanged.status, 304);
    assert_eq!(api.get("/v1/media/clips/clip.mp4", alice).body, bytes);
    let head = api.call(
        "GET",
        "/v1/media/clips/clip.mp4",
        Some(reader),
        &[("Range", "bytes=0-9")],
        None,
    );
    assert_eq!((head.status, &head.body[..]), (206, &bytes[..10]));
    assert_eq!(
        api.get("/v1/media/clips/clip.mp4", bob).status,
        404,
        "bob's namespace has no such clip"
    );

    // The same job as one multipart request: the spec, then the file it
    // names; the output is the same frames.
    let mut multipart_job = job.clone();
    multipart_job["id"] = json!("web-mp");
    multipart_job["inputs"][0]["src"] = json!("clip.mp4");
    let post_parts = |parts: &[(&str, Option<&str>, &[u8])]| {
        let (content_type, body) = multipart(parts);
        api.call(
            "POST",
            "/v1/jobs",
            Some(alice),
            &[("Content-Type", &content_type)],
            Some(&body),
        )
    };
    let spec_text = multipart_job.to_string();
    let no_file = post_parts(&[("spec", None, spec_text.as_bytes())]);
    assert_eq!(
        no_file.status,
        422,
        "{}",
        String::from_utf8_lossy(&no_file.body)
    );
    assert!(
        no_file.json()["detail"]
            .as_str()
            .unwrap()
            .contains("clip.mp4")
    );
    let spec_second = post_parts(&[
        ("file", Some("clip.mp4"), &bytes),
        ("spec", None, spec_text.as_bytes()),
    ]);
    assert_eq!(spec_second.status, 400);
    let stray = post_parts(&[
        ("spec", None, spec_text.as_bytes()),
        ("other.mp4", None, b"x"),
    ]);
    assert_eq!(
        stray.status,
        400,
        "{}",
        String::from_utf8_lossy(&stray.body)
    );
    assert_eq!(
        api.get("/v1/jobs/web-mp", alice).status,
        404,
        "none was made"
    );
    let sent = post_parts(&[
        ("spec", Some("job.json"), spec_text.as_bytes()),
        ("upload", Some("clip.mp4"), &bytes),
    ]);
    assert_eq!(sent.status, 201, "{}", String::from_utf8_lossy(&sent.body));
    assert!(
        sent.json()["spec"]["inputs"][0]["src"]
            .as_str()
            .unwrap()
            .starts_with("media:jobs/web-mp/inputs/"),
        "{}",
        sent.json()
    );
    let ended = api.events("/v1/jobs/web-mp/events", alice, None);
    assert_eq!(ended.last().unwrap().2["state"], "done", "{ended:?}");
    let multipart_out = fleet.dir.path().join("web-mp.mkv");
    std::fs::write(
        &multipart_out,
        api.get("/v1/jobs/web-mp/output", alice).body,
    )
    .unwrap();
    assert_eq!(frame_md5s(&multipart_out), frame_md5s(&local));
    let taken = post_parts(&[
        ("spec", None, spec_text.as_bytes()),
        ("clip.mp4", None, &bytes),
    ]);
    assert_eq!(taken.status, 409, "a multipart job's id is new");

    // Its webhook: refused once (503), delivered again, both signed, the
    // same delivery; then no more.
    let calls = receiver.wait_for(2);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(receiver.seen.lock().unwrap().len(), 2, "{calls:?}");
    let header = |call: &Received, name: &str| {
        call.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    for call in &calls {
        assert!(
            signed(&header(call, "framejet-signature"), &call.1),
            "{:?}",
            call.0
        );
    }
    assert_eq!(
        header(&calls[0], "framejet-delivery"),
        header(&calls[1], "framejet-delivery")
    );
    let delivered: Value = serde_json::from_slice(&calls[1].1).unwrap();
    assert_eq!(delivered["event"], "job.done");
    assert_eq!(
        (&delivered["job"]["id"], &delivered["job"]["state"]),
        (&json!("web-1"), &json!("done"))
    );
    assert_eq!(delivered["job"]["webhook"], json!(receiver.url));

    // Its log: state changes and task starts in order, kept with the output.
    let log = api.get("/v1/jobs/web-1/log", reader);
    assert_eq!(log.status, 200);
    assert!(log.header("content-type").starts_with("text/plain"));
    let log = String::from_utf8(log.body).unwrap();
    assert!(log.contains("\"text-reveal\""), "the spec: {log}");
    let at = |what: &str| {
        log.find(what)
            .unwrap_or_else(|| panic!("no `{what}` in the log:\n{log}"))
    };
    assert!(at("job running") < at("segment 1 started on w"), "{log}");
    assert!(at("segment 1 started on w") < at("finalize started on w"));
    assert!(log.trim_end().ends_with("job done"), "{log}");
    assert_eq!(api.get("/v1/jobs/web-1/log", bob).status, 404);

    // The command-line client over the gateway: it uploads the spec's local
    // files, follows the events and downloads the output.
    let cli = |args: &[&str]| {
        Command::new(framejet_bin())
            .args(args)
            .env("RUST_LOG", "warn")
            .env("FRAMEJET_GATEWAY", &url)
            .env("FRAMEJET_TOKEN", alice)
            .output()
            .unwrap()
    };
    let mut cli_job = local_job.clone();
    cli_job["id"] = json!("cli-1");
    let cli_spec = write_job(fleet.dir.path(), "cli.json", &cli_job);
    let cli_out = fleet.dir.path().join("cli.mkv");
    let out = cli(&[
        "submit",
        cli_spec.to_str().unwrap(),
        "-o",
        cli_out.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(frame_md5s(&cli_out), frame_md5s(&local));
    let out = cli(&["status", "cli-1"]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        summary.starts_with("job cli-1: done") && summary.contains("segment 1: done on w"),
        "{summary}"
    );
    let out = cli(&["status", "cli-1", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&record["state"], &record["owner"]),
        (&json!("done"), &json!("alice"))
    );
    let again = cli(&[
        "submit",
        cli_spec.to_str().unwrap(),
        "-o",
        cli_out.to_str().unwrap(),
    ]);
    assert!(
        !again.status.success() && text(&again).contains("exists"),
        "{}",
        text(&again)
    );
    let both = cli(&["status", "cli-1", "--nats", "nats://127.0.0.1:1"]);
    assert!(
        !both.status.success() && text(&both).contains("--gateway"),
        "{}",
        text(&both)
    );
    let out = cli(&["jobs", "--state", "done"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.starts_with("cli-1\tdone")),
        "{}",
        text(&out)
    );
    let out = cli(&["workers", "--json"]);
    let workers: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(workers.as_array().map(Vec::len), Some(2), "{workers:#}");
    let out = cli(&["queues"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("default\t"),
        "{}",
        text(&out)
    );
    let out = cli(&["retry", "cli-1"]);
    assert!(
        !out.status.success() && text(&out).contains("failed or cancelled"),
        "{}",
        text(&out)
    );
    // A job that writes a mask: `submit -o` fetches it beside the output,
    // the same PNG `framejet run` writes; the API serves it with ranges.
    let masked_job = json!({"id": "mask-1", "inputs": [{"src": clip}],
                            "steps": [{"native": "inpaint", "mask": {"rect": [200, 150, 80, 40]},
                                       "write_mask": true}],
                            "output": {"container": "mkv", "video": {"codec": "ffv1"},
                                       "audio": {"codec": "none"}}});
    let masked_spec = write_job(fleet.dir.path(), "mask.json", &masked_job);
    let masked_out = fleet.dir.path().join("mask.mkv");
    let out = cli(&[
        "submit",
        masked_spec.to_str().unwrap(),
        "-o",
        masked_out.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let masked_local = run_locally(fleet.dir.path(), &masked_spec, "mask-local.mkv");
    let mask_png = |video: &Path| {
        let mut path = video.as_os_str().to_owned();
        path.push(".mask.png");
        std::fs::read(path).unwrap()
    };
    let png = mask_png(&masked_out);
    assert_eq!(png, mask_png(&masked_local));
    let whole = api.get("/v1/jobs/mask-1/masks/0/0", alice);
    assert_eq!(
        (whole.status, whole.header("content-type")),
        (200, "image/png")
    );
    assert_eq!(whole.body, png);
    let part = api.call(
        "GET",
        "/v1/jobs/mask-1/masks/0/0",
        Some(alice),
        &[("Range", "bytes=0-7")],
        None,
    );
    assert_eq!((part.status, &part.body[..]), (206, &png[..8]));
    let etag = whole.header("etag").to_string();
    let same = api.call(
        "GET",
        "/v1/jobs/mask-1/masks/0/0",
        Some(alice),
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(same.status, 304);
    assert_eq!(api.get("/v1/jobs/mask-1/masks/0/1", alice).status, 404);

    // A plugin pushed with the command-line client: admin only.
    let wasm_file = fleet.dir.path().join("my_badge.wasm");
    std::fs::write(&wasm_file, &wasm).unwrap();
    let push = |token: &str| {
        Command::new(framejet_bin())
            .args(["plugin", "push", "--json", "--version", "2.0.0"])
            .arg(&wasm_file)
            .env("RUST_LOG", "warn")
            .env("FRAMEJET_GATEWAY", &url)
            .env("FRAMEJET_TOKEN", token)
            .output()
            .unwrap()
    };
    let refused = push(alice);
    assert!(
        !refused.status.success() && text(&refused).contains("403"),
        "{}",
        text(&refused)
    );
    let out = push(admin);
    assert!(out.status.success(), "{}", text(&out));
    let pushed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&pushed["name"], &pushed["version"]),
        (&json!("my-badge"), &json!("2.0.0"))
    );
    assert_eq!(pushed["digest"].as_str().map(str::len), Some(64));
    let out = cli(&["cancel", "cli-1", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["state"], "done", "a finished job stays done");
    let out = cli(&["logs", "cli-1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim_end()
            .ends_with("job done"),
        "{}",
        text(&out)
    );
    let out = cli(&["logs", "cli-1", "--follow", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.first().unwrap()["state"], "queued");
    assert_eq!(events.last().unwrap()["state"], "done");
    let out = cli(&["cancel", "cli-1", "--purge"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(api.get("/v1/jobs/cli-1", alice).status, 404);

    // An admin purges a queue no worker serves: its tasks go, their job fails.
    let mut batch = job.clone();
    batch["id"] = json!("batch-1");
    batch["route"] = json!({"plugin": "route-by-size", "params": {"default_queue": "batch"}});
    assert_eq!(post(alice, &batch).status, 201);
    fleet.wait_until("batch-1", "planned", |r| r["state"] == "running");
    let purge = |queue: &str, token: &str| {
        api.call(
            "POST",
            &format!("/v1/queues/{queue}/purge"),
            Some(token),
            &[],
            None,
        )
    };
    assert_eq!(purge("batch", alice).status, 403);
    assert_eq!(purge("nope", admin).status, 404);
    let purged = purge("batch", admin);
    assert_eq!(
        purged.status,
        200,
        "{}",
        String::from_utf8_lossy(&purged.body)
    );
    assert_eq!(purged.json()["failed_jobs"], json!(["batch-1"]));
    assert!(
        purged.json()["tasks"].as_u64().unwrap() >= 2,
        "{}",
        purged.json()
    );
    let record = api.get("/v1/jobs/batch-1", alice).json();
    assert_eq!(
        (&record["state"], &record["error"]["kind"]),
        (&json!("failed"), &json!("purged")),
        "{record:#}"
    );
    assert_eq!(
        purge("batch", admin).status,
        404,
        "nothing left, and no worker serves it"
    );
    fleet.wait_until_streams_empty();

    // Purged: gone for good.
    assert_eq!(
        api.call(
            "DELETE",
            "/v1/jobs/web-1?purge=true",
            Some(alice),
            &[],
            None
        )
        .status,
        204
    );
    assert_eq!(api.get("/v1/jobs/web-1", alice).status, 404);

    api.check_against_openapi();
}

#[test]
fn the_gateway_serves_https_and_its_clients_trust_the_certificate_they_are_given() {
    let mut fleet = TestFleet::new();
    let dir = fleet.dir.path().to_path_buf();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let (url, tokens) = start_gateway_with(
        &mut fleet,
        &[("alice", "submit")],
        &[
            "--https-cert".into(),
            cert.display().to_string(),
            "--https-key".into(),
            key.display().to_string(),
        ],
    );
    let url = url.replace("http://", "https://");
    fleet.worker_with("w", &["--planner"]);
    let clip = testsrc_clip(&dir, "tls.mp4", "160x120", 30, false);
    let spec = write_job(
        &dir,
        "tls.json",
        &json!({"id": "tls-1", "inputs": [{"src": clip}],
                "steps": [{"plugin": "text-reveal", "params": {"words": ["TLS"], "size": 16}}],
                "output": {"container": "mkv", "video": {"codec": "ffv1"}, "audio": {"codec": "none"}}}),
    );
    let cli = |args: &[&str], ca: Option<&Path>| {
        let mut command = Command::new(framejet_bin());
        command
            .args(args)
            .env("RUST_LOG", "warn")
            .env("FRAMEJET_GATEWAY", &url)
            .env("FRAMEJET_TOKEN", &tokens[0]);
        if let Some(ca) = ca {
            command.env("FRAMEJET_GATEWAY_CA", ca);
        }
        command.output().unwrap()
    };
    // A client that does not trust the certificate refuses to talk.
    let untrusted = cli(&["jobs"], None);
    assert!(
        !untrusted.status.success() && text(&untrusted).to_lowercase().contains("certificate"),
        "{}",
        text(&untrusted)
    );
    // Upload, submit, follow and download, all over HTTPS.
    let out_file = dir.join("tls.mkv");
    let out = cli(
        &[
            "submit",
            spec.to_str().unwrap(),
            "-o",
            out_file.to_str().unwrap(),
        ],
        Some(&cert),
    );
    assert!(out.status.success(), "{}", text(&out));
    let local = run_locally(&dir, &spec, "tls-local.mkv");
    assert_eq!(frame_md5s(&out_file), frame_md5s(&local));
    let out = cli(&["jobs", "--json"], Some(&cert));
    assert!(out.status.success(), "{}", text(&out));
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["jobs"][0]["id"], "tls-1", "{page:#}");
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let plain = http()
        .get(url.replace("https://", "http://") + "/healthz")
        .call();
    assert!(plain.is_err(), "{plain:?}");
}

/// The status a gateway answers to a PUT's headers alone, with `length` in
/// Content-Length and no body sent.
fn status_of_put_headers(url: &str, name: &str, token: &str, length: usize) -> u16 {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    write!(
        socket,
        "PUT /v1/media/{name} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 12];
    socket.read_exact(&mut head).unwrap();
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}

/// `len` bytes of a fixed pseudo-random sequence: byte `i` depends on `i`
/// alone, whatever sizes it is read in.
struct Noise {
    at: u64,
    len: u64,
}

impl Noise {
    fn new(len: u64) -> Self {
        Self { at: 0, len }
    }
}

impl std::io::Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min((self.len - self.at) as usize);
        let mut word = noise_word(self.at / 8);
        for b in &mut buf[..n] {
            if self.at.is_multiple_of(8) {
                word = noise_word(self.at / 8);
            }
            *b = (word >> (8 * (self.at % 8))) as u8;
            self.at += 1;
        }
        Ok(n)
    }
}

/// splitmix64 of a word's index.
fn noise_word(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A process's peak resident memory (VmHWM), in MiB.
fn peak_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

#[test]
fn the_gateway_streams_media_without_holding_it() {
    let mut fleet = TestFleet::new();
    let (url, tokens) = start_gateway_with(
        &mut fleet,
        &[("alice", "submit")],
        &["--max-upload".into(), "3GiB".into()],
    );
    let token = format!("Bearer {}", tokens[0]);
    let pid = fleet.pid_of("gateway");
    let agent = http();
    // A small round trip first, so the peak after it is the gateway at work.
    let small = agent
        .put(format!("{url}/v1/media/small.bin"))
        .header("Authorization", &token)
        .send(&b"warm"[..])
        .unwrap();
    assert_eq!(small.status(), 200);
    let before = peak_mib(pid);
    let round_trip = |name: &str, size: u64| {
        let up = answer(
            agent
                .put(format!("{url}/v1/media/{name}"))
                .header("Authorization", &token)
                .send(ureq::SendBody::from_owned_reader(Noise::new(size)))
                .unwrap(),
        );
        assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.body));
        assert_eq!(up.json()["size"], size);
        let mut down = agent
            .get(format!("{url}/v1/media/{name}"))
            .header("Authorization", &token)
            .call()
            .unwrap();
        assert_eq!(down.status(), 200);
        let mut body = down.body_mut().as_reader();
        let mut expected = Noise::new(size);
        let (mut got, mut want) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
        let mut total = 0u64;
        loop {
            let n = std::io::Read::read(&mut body, &mut got).unwrap();
            if n == 0 {
                break;
            }
            std::io::Read::read_exact(&mut expected, &mut want[..n]).unwrap();
            assert!(got[..n] == want[..n], "{name}: bytes differ after {total}");
            total += n as u64;
        }
        assert_eq!(total, size, "{name}");
        // A range across chunk boundaries (the store keeps 128 KiB chunks).
        let part = answer(
            agent
                .get(format!("{url}/v1/media/{name}"))
                .header("Authorization", &token)
                .header("Range", "bytes=131000-400000")
                .call()
                .unwrap(),
        );
        assert_eq!(part.status, 206);
        let mut expected = vec![0u8; 400_001];
        std::io::Read::read_exact(&mut Noise::new(size), &mut expected).unwrap();
        assert!(
            part.body == expected[131_000..],
            "{name}: the range's bytes differ"
        );
        peak_mib(pid)
    };
    let small = round_trip("noise-200m.bin", 200 << 20);
    let large = round_trip("noise-2g.bin", 2 << 30);
    println!(
        "gateway peak memory: {before:.1} MiB before, {small:.1} MiB after a 200 MiB upload and download, {large:.1} MiB after a 2 GiB one"
    );
    assert!(large - small < 20.0, "{small:.1} → {large:.1} MiB");
    assert!(large < 100.0, "{large:.1} MiB");
}

#[test]
fn the_gateway_answers_health_checks_while_the_workers_encode() {
    let mut fleet = TestFleet::new();
    let (url, _) = start_gateway(&mut fleet, &[]);
    let spec = long_job(fleet.dir.path(), 2);
    fleet.worker_with("wa", &["--planner"]);
    fleet.worker("wb");
    assert!(fleet.submit(&spec, "busy").status.success());
    fleet.wait_until("busy", "both workers encoding", |r| {
        running_on(r, "wa") && running_on(r, "wb")
    });
    let agent = http();
    let mut took = Vec::new();
    for _ in 0..500 {
        let start = Instant::now();
        let answer = agent.get(format!("{url}/healthz")).call().unwrap();
        took.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(answer.status(), 200);
    }
    let record = fleet.record("busy");
    assert!(
        running_on(&record, "wa") || running_on(&record, "wb"),
        "the workers were still encoding: {record:#}"
    );
    took.sort_by(f64::total_cmp);
    println!(
        "/healthz while two workers encode: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (500 requests)",
        took[249], took[494], took[499]
    );
    let _ = fleet.framejet(&["cancel"], &["busy"]);
}
