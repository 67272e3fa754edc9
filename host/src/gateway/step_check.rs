//! The plugin steps of a submitted spec, tried before the job is accepted,
//! so that params a plugin refuses answer 422 naming the field
//! (`steps[1].params.corner: expected one of …`), as `framejet run` says,
//! instead of a job that fails once planned.
//!
//! The gateway has no media to probe, so each step is created at two
//! nominal sizes (a small and a large frame, with assets to match); only a
//! refusal both give alike counts: it does not depend on the video. A step
//! whose plugin reads an asset's bytes to decide, or that the gateway cannot
//! find (a plugin only workers have), is left to the planner.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use framejet_spec::plan::{OutputFormat, step_sizes};
use framejet_spec::{JobSpec, NativeStep, StepSpec};

use super::ApiError;
use crate::fleet::Fleet;
use crate::plugin::{
    self, AssetSource, MediaInfo, Plugin, PluginEnv, PluginError, PluginKind, PluginRegistry,
};

/// The two nominal frame sizes, and an asset size for each.
const NOMINAL: [((u32, u32), (u32, u32)); 2] = [((640, 360), (64, 32)), ((3840, 2160), (512, 256))];

/// Finds and keeps the plugins that specs name.
pub(super) struct StepCheck {
    registry: Arc<PluginRegistry>,
    /// Components pushed to the fleet, compiled, by digest.
    pushed: Mutex<HashMap<String, Arc<Plugin>>>,
}

impl StepCheck {
    pub(super) fn new(registry: Arc<PluginRegistry>) -> Self {
        Self {
            registry,
            pushed: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn runtime(&self) -> &Arc<plugin::PluginRuntime> {
        self.registry.runtime()
    }

    /// Tries `spec`'s plugin steps; a refusal that holds at every nominal
    /// size is answered as an invalid spec.
    pub(super) async fn check(&self, fleet: &Fleet, spec: &JobSpec) -> Result<(), ApiError> {
        let mut steps = Vec::new();
        for (i, step) in spec.steps.iter().enumerate() {
            if let StepSpec::Plugin(step) = step
                && let Some(plugin) = self.plugin(fleet, &step.plugin).await
            {
                steps.push((i, plugin));
            }
        }
        if steps.is_empty() {
            return Ok(());
        }
        let spec = spec.clone();
        let refusal = tokio::task::spawn_blocking(move || {
            steps
                .iter()
                .find_map(|(i, plugin)| refusal(&spec, *i, plugin))
        })
        .await
        .map_err(|e| {
            ApiError::BadRequest(format!("the check of the spec's plugins failed: {e}"))
        })?;
        match refusal {
            Some(message) => Err(ApiError::InvalidSpec(message)),
            None => Ok(()),
        }
    }

    /// The plugin a step names, as the planner will find it: pushed to the
    /// fleet first, then installed here. `None` when the gateway cannot tell.
    async fn plugin(&self, fleet: &Fleet, name: &str) -> Option<Arc<Plugin>> {
        if name.contains('/') || name.ends_with(".wasm") {
            return None;
        }
        let key = format!("plugins/{name}");
        let Ok(info) = fleet.plugins.info(&key).await else {
            // Not pushed (or the store did not answer): one installed here.
            return match name.contains('@') {
                true => None,
                false => self.registry.get(name).ok(),
            };
        };
        let digest = info.digest.unwrap_or_default();
        if let Some(plugin) = self.pushed.lock().ok()?.get(&digest) {
            return Some(plugin.clone());
        }
        let bytes = fleet.get_bytes(&fleet.plugins, &key).await.ok()?;
        let runtime = self.registry.runtime().clone();
        let plain = name.split('@').next().unwrap_or(name).to_string();
        let plugin = tokio::task::spawn_blocking(move || runtime.load(&plain, &bytes))
            .await
            .ok()?
            .ok()?;
        let plugin = Arc::new(plugin);
        if let Ok(mut pushed) = self.pushed.lock() {
            pushed.insert(digest, plugin.clone());
        }
        Some(plugin)
    }
}

/// How step `i` refuses its params at every nominal size, for each
/// distinct set of asset names the inputs give it; `None` if it does not.
fn refusal(spec: &JobSpec, i: usize, plugin: &Plugin) -> Option<String> {
    let StepSpec::Plugin(step) = &spec.steps[i] else {
        return None;
    };
    let params = step.params.to_string();
    let asset_sets: BTreeSet<Vec<String>> = spec
        .inputs
        .iter()
        .map(|input| input.assets.keys().cloned().collect())
        .collect();
    for names in asset_sets {
        let mut said = None;
        for (frame, asset) in NOMINAL {
            let assets = Arc::new(NominalAssets {
                names: names.clone(),
                size: asset,
                read: AtomicBool::new(false),
            });
            let info = nominal_info(spec, i, frame);
            let env = PluginEnv {
                assets: assets.clone(),
                limits: spec.plugin_limits.clone(),
                ..PluginEnv::default()
            };
            let created = match plugin.kind() {
                PluginKind::Overlay => plugin.overlay(&info, &params, env).map(drop),
                PluginKind::FrameFilter => plugin.frame_filter(&info, &params, env).map(drop),
                // The wrong world for a step: the planner says so.
                _ => return None,
            };
            let message = match created {
                Err(error @ PluginError::Refused { .. })
                    if !assets.read.load(Ordering::Relaxed) =>
                {
                    crate::job::JobError::plugin(format!("steps[{i}]"), error).to_string()
                }
                _ => {
                    said = None;
                    break;
                }
            };
            match &said {
                Some(earlier) if *earlier != message => {
                    said = None;
                    break;
                }
                _ => said = Some(message),
            }
        }
        if said.is_some() {
            return said;
        }
    }
    None
}

/// What step `i` sees of a nominal input of `frame` size: the size its
/// place among the steps gives it (a `fit` before it sets its own), 30 fps,
/// ten seconds.
fn nominal_info(spec: &JobSpec, i: usize, frame: (u32, u32)) -> MediaInfo {
    let fit = spec.steps.iter().find_map(|s| match s {
        StepSpec::Native(NativeStep::Fit(fit)) => Some((fit.width, fit.height)),
        _ => None,
    });
    let (width, height) = fit.unwrap_or(frame);
    let out = OutputFormat {
        width,
        height,
        frame_rate: (30, 1),
    };
    let (width, height) = step_sizes(spec, frame, &out)[i];
    MediaInfo {
        width,
        height,
        frame_rate: plugin::Rational { num: 30, den: 1 },
        frame_count: 300,
        duration_us: 10_000_000,
        keyframes: vec![0],
        has_audio: true,
    }
}

/// Assets known by name only: each of a fixed size; reading one's bytes
/// makes the check undecided.
struct NominalAssets {
    names: Vec<String>,
    size: (u32, u32),
    read: AtomicBool,
}

impl AssetSource for NominalAssets {
    fn bytes(&self, _name: &str) -> Result<Vec<u8>, String> {
        self.read.store(true, Ordering::Relaxed);
        Err("assets are read when the job is planned".into())
    }

    fn dimensions(&self, name: &str) -> Result<(u32, u32), String> {
        if self.names.iter().any(|n| n == name) {
            Ok(self.size)
        } else {
            Err(crate::job::missing_asset(name, &self.names))
        }
    }
}
