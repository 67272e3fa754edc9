//! Finding plugins by name: a search path of directories holding `.wasm`
//! components, each loaded once per process.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::PluginError;
use super::runtime::{Plugin, PluginRuntime, plugin_name_from_path};

/// Plugins by name, loaded on first use from a list of directories.
pub struct PluginRegistry {
    runtime: Arc<PluginRuntime>,
    dirs: Vec<PathBuf>,
    loaded: Mutex<HashMap<String, Arc<Plugin>>>,
}

impl PluginRegistry {
    /// A registry that looks for `<name>.wasm` (dashes or underscores) in
    /// `dirs`, in order.
    pub fn new(runtime: Arc<PluginRuntime>, dirs: Vec<PathBuf>) -> Self {
        Self {
            runtime,
            dirs,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The default search path: `$FRAMEJET_PLUGIN_PATH` (`:`-separated),
    /// then `plugins/` beside the `framejet` binary, then
    /// `../share/framejet/plugins` from the binary's directory, where
    /// `scripts/install.sh` puts the shipped plugins (`~/.cargo/bin/framejet`
    /// finds `~/.cargo/share/framejet/plugins`).
    pub fn default_dirs() -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::env::var_os("FRAMEJET_PLUGIN_PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        if let Some(bin_dir) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
        {
            dirs.push(bin_dir.join("plugins"));
            if let Some(prefix) = bin_dir.parent() {
                dirs.push(prefix.join("share/framejet/plugins"));
            }
        }
        dirs
    }

    /// A registry with the same runtime and search path whose names can be
    /// pinned ([`PluginRegistry::pin`]) for one job without touching this
    /// one. Compiled code is shared through the runtime.
    pub fn scoped(&self) -> PluginRegistry {
        PluginRegistry::new(self.runtime.clone(), self.dirs.clone())
    }

    /// Makes `name` mean `plugin` in this registry, whatever the search
    /// path holds (a plugin pushed to the fleet, a pinned version).
    pub fn pin(&self, name: &str, plugin: Arc<Plugin>) {
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(name.to_string(), plugin);
        }
    }

    /// The runtime plugins are loaded into.
    pub fn runtime(&self) -> &Arc<PluginRuntime> {
        &self.runtime
    }

    /// The plugin called `name`, or the component at `name` when it is a
    /// path to a `.wasm` file.
    pub fn get(&self, name: &str) -> Result<Arc<Plugin>, PluginError> {
        if let Some(plugin) = self.loaded.lock().ok().and_then(|l| l.get(name).cloned()) {
            return Ok(plugin);
        }
        let path = self.find(name)?;
        let plugin = Arc::new(self.runtime.load_file(&path)?);
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(name.to_string(), plugin.clone());
        }
        Ok(plugin)
    }

    /// Where the component for `name` is.
    pub fn find(&self, name: &str) -> Result<PathBuf, PluginError> {
        if name.ends_with(".wasm") || name.contains('/') {
            return Ok(PathBuf::from(name));
        }
        let candidates = [
            format!("{name}.wasm"),
            format!("{}.wasm", name.replace('-', "_")),
        ];
        self.dirs
            .iter()
            .flat_map(|dir| candidates.iter().map(move |file| dir.join(file)))
            .find(|path| path.is_file())
            .ok_or_else(|| PluginError::Unknown {
                name: name.to_string(),
                known: self.describe_available(),
            })
    }

    /// Names of every plugin on the search path.
    pub fn available(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "wasm") {
                    names.insert(plugin_name_from_path(&path));
                }
            }
        }
        names.into_iter().collect()
    }

    fn describe_available(&self) -> String {
        let names = self.available();
        if names.is_empty() {
            let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
            format!(
                "none (searched {}; run scripts/install.sh, or set FRAMEJET_PLUGIN_PATH)",
                dirs.join(", ")
            )
        } else {
            names.join(", ")
        }
    }
}
