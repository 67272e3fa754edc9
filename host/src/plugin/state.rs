//! What one plugin instance's store holds: its sandboxed WASI context, its
//! memory limiter, the host imports' state (assets, sprites) and the stream
//! that turns its stderr into job-log lines.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{host, types};
use framejet_spec::PluginLimits;

/// Severity of a plugin log line.
pub use tracing::Level;

/// One line for the job's log: what a plugin wrote, through `host.log` or to stderr, or a
/// native step's report.
#[derive(Debug, Clone, Copy)]
pub struct LogLine<'a> {
    pub source: LogSource<'a>,
    pub level: Level,
    pub message: &'a str,
}

/// What wrote a log line.
#[derive(Debug, Clone, Copy)]
pub enum LogSource<'a> {
    /// A plugin, by name.
    Plugin(&'a str),
    /// A native step, by kind (`inpaint`).
    Step(&'a str),
}

impl LogSource<'_> {
    /// The plugin's name or the step's kind.
    pub fn name(&self) -> &str {
        match self {
            LogSource::Plugin(name) | LogSource::Step(name) => name,
        }
    }
}

impl std::fmt::Display for LogSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogSource::Plugin(name) => write!(f, "plugin `{name}`"),
            LogSource::Step(kind) => write!(f, "step `{kind}`"),
        }
    }
}

/// Where plugin log lines go: the job's log.
pub type LogSink = Arc<dyn Fn(&LogLine<'_>) + Send + Sync>;

/// A log sink that forwards to `tracing`, with what wrote the line as a field.
pub fn tracing_sink() -> LogSink {
    Arc::new(|line: &LogLine<'_>| match line.level {
        Level::ERROR => tracing::error!(source = %line.source, "{}", line.message),
        Level::WARN => tracing::warn!(source = %line.source, "{}", line.message),
        Level::INFO => tracing::info!(source = %line.source, "{}", line.message),
        Level::DEBUG => tracing::debug!(source = %line.source, "{}", line.message),
        Level::TRACE => tracing::trace!(source = %line.source, "{}", line.message),
    })
}

/// The assets of the current job, by the names the job spec gives them.
pub trait AssetSource: Send + Sync {
    /// The asset's raw bytes.
    fn bytes(&self, name: &str) -> Result<Vec<u8>, String>;
    /// The pixel size of an image asset.
    fn dimensions(&self, name: &str) -> Result<(u32, u32), String>;
}

/// An asset source for calls that have no job assets (routing, checks).
pub struct NoAssets;

impl AssetSource for NoAssets {
    fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        Err(format!("no asset named `{name}`: this job has no assets"))
    }
    fn dimensions(&self, name: &str) -> Result<(u32, u32), String> {
        self.bytes(name).map(|_| (0, 0))
    }
}

/// What the host gives a plugin instance: the job's assets, where its log
/// lines go, its limits, and what its WASI random and clocks return.
#[derive(Clone)]
pub struct PluginEnv {
    pub assets: Arc<dyn AssetSource>,
    pub log: LogSink,
    pub limits: PluginLimits,
    /// Seeds `wasi:random` (both generators): the same seed, the same
    /// numbers, so a task run twice gives the same bytes.
    pub random_seed: u64,
    /// What `wasi:clocks/wall-clock` says, frozen (ms since 1970); the
    /// monotonic clock stays at zero.
    pub wall_clock_ms: u64,
}

impl Default for PluginEnv {
    fn default() -> Self {
        Self {
            assets: Arc::new(NoAssets),
            log: tracing_sink(),
            limits: PluginLimits::default(),
            random_seed: 0,
            wall_clock_ms: 0,
        }
    }
}

/// A wall clock that does not move.
struct FrozenWallClock(std::time::Duration);

impl wasmtime_wasi::HostWallClock for FrozenWallClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_millis(1)
    }
    fn now(&self) -> std::time::Duration {
        self.0
    }
}

/// A monotonic clock that does not move.
struct FrozenMonotonicClock;

impl wasmtime_wasi::HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// An image a plugin defined with `host.define-sprite`: straight-alpha RGBA.
#[derive(Debug, Clone)]
pub struct Sprite {
    pub width: u32,
    pub height: u32,
    pub rgba: Arc<[u8]>,
}

/// The data of one plugin instance's store.
pub(crate) struct PluginState {
    plugin: Arc<str>,
    env: PluginEnv,
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimiter,
    stderr: StderrLog,
    sprites: Vec<Sprite>,
    sprite_pixels: u64,
}

impl PluginState {
    pub(crate) fn new(plugin: Arc<str>, env: PluginEnv) -> Self {
        let stderr = StderrLog::new(plugin.clone(), env.log.clone());
        // No preopened directories, no environment, no arguments, no
        // sockets (all addresses are denied by default), stdin closed.
        // Random numbers and clocks come from the env, not the machine.
        use rand::SeedableRng;
        let seed = env.random_seed;
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .secure_random(rand::rngs::StdRng::seed_from_u64(seed))
            .insecure_random(rand::rngs::StdRng::seed_from_u64(
                seed ^ 0x9e37_79b9_7f4a_7c15,
            ))
            .insecure_random_seed(u128::from(seed))
            .wall_clock(FrozenWallClock(std::time::Duration::from_millis(
                env.wall_clock_ms,
            )))
            .monotonic_clock(FrozenMonotonicClock)
            .build();
        Self {
            memory: MemoryLimiter::new(env.limits.memory_bytes()),
            plugin,
            env,
            wasi,
            table: ResourceTable::new(),
            stderr,
            sprites: Vec::new(),
            sprite_pixels: 0,
        }
    }

    pub(crate) fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.memory
    }

    pub(crate) fn limits(&self) -> &PluginLimits {
        &self.env.limits
    }

    pub(crate) fn memory_exceeded(&self) -> bool {
        self.memory.exceeded
    }

    /// The last lines the plugin wrote to stderr (a panic message, usually).
    pub(crate) fn stderr_tail(&self) -> String {
        self.stderr.flush_and_tail()
    }

    pub(crate) fn sprites(&self) -> &[Sprite] {
        &self.sprites
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for PluginState {}

impl host::Host for PluginState {
    fn log(&mut self, level: host::LogLevel, message: String) {
        let level = match level {
            host::LogLevel::Trace => Level::TRACE,
            host::LogLevel::Debug => Level::DEBUG,
            host::LogLevel::Info => Level::INFO,
            host::LogLevel::Warn => Level::WARN,
            host::LogLevel::Error => Level::ERROR,
        };
        (self.env.log)(&LogLine {
            source: LogSource::Plugin(&self.plugin),
            level,
            message: &message,
        });
    }

    fn asset(&mut self, name: String) -> Result<Vec<u8>, String> {
        self.env.assets.bytes(&name)
    }

    fn asset_info(&mut self, name: String) -> Result<types::ImageSize, String> {
        let (width, height) = self.env.assets.dimensions(&name)?;
        Ok(types::ImageSize { width, height })
    }

    fn define_sprite(&mut self, width: u32, height: u32, rgba: Vec<u8>) -> Result<u32, String> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels == 0 {
            return Err(format!("sprite of {width}x{height} has no pixels"));
        }
        if rgba.len() as u64 != pixels * 4 {
            return Err(format!(
                "sprite of {width}x{height} needs {} bytes of RGBA, got {}",
                pixels * 4,
                rgba.len()
            ));
        }
        let limit = self.env.limits.max_sprite_pixels;
        if self.sprite_pixels + pixels > limit {
            return Err(format!(
                "sprites would hold {} pixels; the limit is {limit}",
                self.sprite_pixels + pixels
            ));
        }
        let id = u32::try_from(self.sprites.len()).map_err(|_| "too many sprites".to_string())?;
        self.sprite_pixels += pixels;
        self.sprites.push(Sprite {
            width,
            height,
            rgba: rgba.into(),
        });
        Ok(id)
    }
}

/// Caps linear memory (and tables) and remembers whether the cap was hit,
/// so a failed `memory.grow` reads as "memory limit" rather than a generic trap.
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    exceeded: bool,
}

impl MemoryLimiter {
    fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            exceeded: false,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            wasmtime::bail!("memory limit of {} bytes reached", self.max_bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Most bytes kept of a stderr line that has no newline yet.
const MAX_PENDING_LINE: usize = 16 << 10;
/// How many of the last stderr lines are kept for error messages.
const TAIL_LINES: usize = 4;

/// The plugin's stderr: split into lines, each sent to the log sink at
/// `WARN`, the last few kept to explain a trap.
#[derive(Clone)]
struct StderrLog(Arc<Mutex<StderrLines>>);

struct StderrLines {
    plugin: Arc<str>,
    sink: LogSink,
    pending: Vec<u8>,
    tail: VecDeque<String>,
}

impl StderrLog {
    fn new(plugin: Arc<str>, sink: LogSink) -> Self {
        Self(Arc::new(Mutex::new(StderrLines {
            plugin,
            sink,
            pending: Vec::new(),
            tail: VecDeque::new(),
        })))
    }

    fn write(&self, bytes: &[u8]) {
        let Ok(mut lines) = self.0.lock() else { return };
        lines.pending.extend_from_slice(bytes);
        while let Some(end) = lines.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = lines.pending.drain(..=end).collect();
            lines.emit(&line[..line.len() - 1]);
        }
        if lines.pending.len() > MAX_PENDING_LINE {
            let line = std::mem::take(&mut lines.pending);
            lines.emit(&line);
        }
    }

    fn flush_and_tail(&self) -> String {
        let Ok(mut lines) = self.0.lock() else {
            return String::new();
        };
        if !lines.pending.is_empty() {
            let line = std::mem::take(&mut lines.pending);
            lines.emit(&line);
        }
        lines.tail.iter().cloned().collect::<Vec<_>>().join(" / ")
    }
}

impl StderrLines {
    fn emit(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end();
        // Rust's panic hint is noise in a job log.
        if text.is_empty() || text.starts_with("note: run with `RUST_BACKTRACE") {
            return;
        }
        (self.sink)(&LogLine {
            source: LogSource::Plugin(&self.plugin),
            level: Level::WARN,
            message: text,
        });
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(text.to_string());
    }
}

impl IsTerminal for StderrLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrLog {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for StderrLog {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        StderrLog::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for StderrLog {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for StderrLog {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
