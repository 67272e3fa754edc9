//! The plugin runtime: one wasmtime [`Engine`] per process, a compiled-code
//! cache on disk, and loaded plugins ready to instantiate.
//!
//! Loading a plugin compiles it once (or reads the compiled code from the
//! cache, keyed by the component's SHA-256 and the engine's compatibility
//! hash), inspects which world it implements, links it against WASI and the
//! `host` interface, and keeps an `InstancePre`. Every call then gets a fresh
//! store from the pooling allocator, so a plugin never sees another job's
//! state and instantiation costs microseconds.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::PluginError;
use super::bindings::router;
use super::calls::KindPre;
use super::state::PluginState;
use super::world::{self, ComponentSummary, PluginKind};

/// How often the epoch ticks; deadlines are rounded up to whole ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Settings of a [`PluginRuntime`].
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where compiled code is cached; `None` disables the disk cache.
    pub cache_dir: Option<PathBuf>,
    /// Most plugin instances alive at once (the pooling allocator's size).
    pub max_instances: u32,
    /// Largest linear memory any instance may reach, in MiB; per-job limits
    /// can only lower it.
    pub max_memory_mib: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: default_cache_dir(),
            max_instances: 512,
            max_memory_mib: 1024,
        }
    }
}

/// `$FRAMEJET_CACHE_DIR`, else `$XDG_CACHE_HOME/framejet/plugins`, else
/// `~/.cache/framejet/plugins`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FRAMEJET_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("framejet").join("plugins"))
}

/// Counters that show where compiled code came from.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Components compiled from wasm.
    pub compiled: u64,
    /// Components read from the on-disk cache.
    pub disk_hits: u64,
    /// Components found already loaded in this process.
    pub memory_hits: u64,
}

#[derive(Default)]
struct CacheCounters {
    compiled: AtomicU64,
    disk_hits: AtomicU64,
    memory_hits: AtomicU64,
}

/// The process-wide plugin runtime. Cheap to share behind an `Arc`.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<PluginState>,
    config: RuntimeConfig,
    compatibility: u64,
    loaded: Mutex<HashMap<String, Component>>,
    counters: CacheCounters,
    ticker: Option<EpochTicker>,
}

impl PluginRuntime {
    /// Starts an engine with the component model, epoch deadlines and the
    /// pooling allocator.
    pub fn new(config: RuntimeConfig) -> Result<Self, PluginError> {
        let engine_err = |e: wasmtime::Error| PluginError::Engine(format!("{e:#}"));
        let max_memory = usize::try_from(config.max_memory_mib << 20)
            .map_err(|_| PluginError::Engine("max_memory_mib is too large".into()))?;

        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(config.max_instances)
            .total_core_instances(config.max_instances * 4)
            .total_memories(config.max_instances * 2)
            .total_tables(config.max_instances * 4)
            .max_memory_size(max_memory);

        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(wasmtime::OptLevel::Speed)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm).map_err(engine_err)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(engine_err)?;
        router::framejet::plugin::host::add_to_linker::<_, HasSelf<PluginState>>(
            &mut linker,
            |state| state,
        )
        .map_err(engine_err)?;

        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let compatibility = hasher.finish();

        let ticker = EpochTicker::start(engine.clone())
            .map_err(|e| PluginError::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(Self {
            engine,
            linker,
            config,
            compatibility,
            loaded: Mutex::new(HashMap::new()),
            counters: CacheCounters::default(),
            ticker: Some(ticker),
        })
    }

    /// The wasmtime engine (for tools that inspect components).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Where compiled code came from so far.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            compiled: self.counters.compiled.load(Ordering::Relaxed),
            disk_hits: self.counters.disk_hits.load(Ordering::Relaxed),
            memory_hits: self.counters.memory_hits.load(Ordering::Relaxed),
        }
    }

    /// Loads a plugin from a `.wasm` file; its name is the file stem with
    /// `_` read as `-` (`overlay_logo.wasm` is `overlay-logo`).
    pub fn load_file(&self, path: &Path) -> Result<Plugin, PluginError> {
        let name = plugin_name_from_path(path);
        let bytes = std::fs::read(path).map_err(|error| PluginError::Read {
            plugin: name.clone(),
            path: path.to_path_buf(),
            error,
        })?;
        self.load(&name, &bytes)
    }

    /// Loads a plugin from the bytes of a component.
    pub fn load(&self, name: &str, wasm: &[u8]) -> Result<Plugin, PluginError> {
        let digest = hex(&Sha256::digest(wasm));
        let component = self.component(name, &digest, wasm)?;
        let summary = world::inspect(&self.engine, name, &component)?;
        let pre = KindPre::new(&self.linker, &component, summary.kind, name)?;
        Ok(Plugin {
            name: Arc::from(name),
            digest,
            summary,
            pre,
            engine: self.engine.clone(),
        })
    }

    /// Compiles `wasm` (or finds it compiled) and says which world it
    /// implements, without linking it.
    pub fn inspect(&self, name: &str, wasm: &[u8]) -> Result<ComponentSummary, PluginError> {
        let digest = hex(&Sha256::digest(wasm));
        let component = self.component(name, &digest, wasm)?;
        world::inspect(&self.engine, name, &component)
    }

    fn component(&self, name: &str, digest: &str, wasm: &[u8]) -> Result<Component, PluginError> {
        if let Some(component) = self.loaded_component(digest) {
            self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(component);
        }
        let cached = self.cache_path(digest);
        if let Some(path) = &cached
            && path.is_file()
        {
            // SAFETY: the cache directory holds only files this runtime
            // serialized itself, named by the wasm's digest and the engine's
            // compatibility hash; wasmtime checks the header again on load.
            match unsafe { Component::deserialize_file(&self.engine, path) } {
                Ok(component) => {
                    self.counters.disk_hits.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(plugin = name, path = %path.display(), "compiled code read from cache");
                    self.remember(digest, &component);
                    return Ok(component);
                }
                Err(e) => {
                    tracing::warn!(plugin = name, path = %path.display(), "ignoring unusable cache entry: {e:#}");
                }
            }
        }

        if !wasm.starts_with(b"\0asm") {
            return Err(PluginError::NotAComponent {
                plugin: name.to_string(),
                reason: "the file does not start with the wasm magic bytes".into(),
            });
        }
        if wasmparser_is_core_module(wasm) {
            return Err(PluginError::NotAComponent {
                plugin: name.to_string(),
                reason: "it is a core wasm module; build it for wasm32-wasip2 (or run `wasm-tools component new`)".into(),
            });
        }
        let component =
            Component::new(&self.engine, wasm).map_err(|e| PluginError::NotAComponent {
                plugin: name.to_string(),
                reason: format!("{e:#}"),
            })?;
        self.counters.compiled.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(plugin = name, "compiled");
        if let Some(path) = cached
            && let Err(error) = write_cache_entry(&path, &component)
        {
            tracing::warn!(plugin = name, "{}", PluginError::Cache { path, error });
        }
        self.remember(digest, &component);
        Ok(component)
    }

    fn loaded_component(&self, digest: &str) -> Option<Component> {
        self.loaded.lock().ok()?.get(digest).cloned()
    }

    fn remember(&self, digest: &str, component: &Component) {
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(digest.to_string(), component.clone());
        }
    }

    fn cache_path(&self, digest: &str) -> Option<PathBuf> {
        let dir = self.config.cache_dir.as_ref()?;
        Some(dir.join(format!("{digest}-{:016x}.cwasm", self.compatibility)))
    }
}

impl Drop for PluginRuntime {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.stop();
        }
    }
}

/// A loaded plugin: compiled, linked and ready to instantiate per call.
pub struct Plugin {
    pub(crate) name: Arc<str>,
    digest: String,
    summary: ComponentSummary,
    pub(crate) pre: KindPre,
    pub(crate) engine: Engine,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("kind", &self.summary.kind)
            .field("digest", &self.digest)
            .finish()
    }
}

impl Plugin {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Which world it implements.
    pub fn kind(&self) -> PluginKind {
        self.summary.kind
    }

    /// SHA-256 of the component's bytes, hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Its imports and exports.
    pub fn summary(&self) -> &ComponentSummary {
        &self.summary
    }
}

/// The plugin name a file stands for: its stem, `_` read as `-`.
pub fn plugin_name_from_path(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_else(|| path.display().to_string())
}

/// A core module's version field is 1; a component's is 0x0d with layer 1.
fn wasmparser_is_core_module(wasm: &[u8]) -> bool {
    wasm.get(4..8) == Some(&[1, 0, 0, 0])
}

fn write_cache_entry(path: &Path, component: &Component) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK`], which is
/// what makes call deadlines fire.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl EpochTicker {
    fn start(engine: Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("framejet-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self { stop, thread })
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}
