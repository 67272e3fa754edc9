//! Shared set-up for the host's tests: the built plugins and a runtime
//! with a private compiled-code cache.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use framejet::plugin::{Plugin, PluginRegistry, PluginRuntime, RuntimeConfig};

/// Where `scripts/build-plugins.sh` put the components.
pub fn plugin_dirs() -> Vec<PathBuf> {
    PluginRegistry::default_dirs()
}

/// The path of a built plugin, failing the test with a hint when missing.
pub fn plugin_path(name: &str) -> PathBuf {
    let file = format!("{}.wasm", name.replace('-', "_"));
    plugin_dirs()
        .into_iter()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{file} not found: run scripts/build-plugins.sh first"))
}

/// One registry for the whole test binary, compiled code kept in memory
/// (no disk cache: the binary's static would never remove it).
pub fn registry() -> &'static PluginRegistry {
    static REGISTRY: OnceLock<PluginRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let runtime = PluginRuntime::new(RuntimeConfig {
            cache_dir: None,
            ..RuntimeConfig::default()
        })
        .expect("runtime");
        PluginRegistry::new(Arc::new(runtime), plugin_dirs())
    })
}

/// A shipped or test plugin by name.
pub fn plugin(name: &str) -> Arc<Plugin> {
    registry().get(name).unwrap_or_else(|e| panic!("{e}"))
}
