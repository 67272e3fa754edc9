//! The plugin steps of a submitted spec, tried before the job is accepted,
//! so that params a plugin refuses answer 422 naming the field
//! (`steps[1].params.corner: expected one of …`), as `framejet run` says,
//! instead of a job that fails once planned.
//!
//! The gateway has no media to probe, so each step is created at two
//! nominal sizes (a small and a large frame, with assets to match); only a
//! refusal both give alike counts: it does not depend on the video. A step
//! whose plugin reads an asset's bytes to decide, takes longer than
//! [`CHECK_DEADLINE_MS`] to create, or that the gateway cannot find (a
//! plugin only workers have), is left to the planner. Outcomes are kept by
//! plugin digest, params and sizes, so a template submitted again with
//! other inputs costs nothing.

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

/// The most a step's `create` may take in the check, in milliseconds: a
/// refusal of params comes at once; a plugin that does real work when
/// created (text-reveal draws its glyphs) is stopped and left undecided, so
/// a submit stays fast.
const CHECK_DEADLINE_MS: u64 = 8;

/// Outcomes kept; past this many the memory starts again.
const KEPT: usize = 4096;

/// Finds and keeps the plugins that specs name, and what their checks said.
pub(super) struct StepCheck {
    registry: Arc<PluginRegistry>,
    /// Components pushed to the fleet, compiled, by digest.
    pushed: Mutex<HashMap<String, Arc<Plugin>>>,
    /// Each check's outcome (the refusal, if any) by what decides it.
    decided: Arc<Mutex<HashMap<CheckKey, Option<String>>>>,
}

/// What decides a check: the component, its params, the asset names it
/// may ask for, the sizes it is created at and the limits it runs under.
#[derive(PartialEq, Eq, Hash)]
struct CheckKey {
    digest: String,
    params: String,
    assets: Vec<String>,
    sizes: Vec<(u32, u32)>,
    limits: String,
}

impl StepCheck {
    pub(super) fn new(registry: Arc<PluginRegistry>) -> Self {
        Self {
            registry,
            pushed: Mutex::new(HashMap::new()),
            decided: Arc::default(),
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
        let decided = self.decided.clone();
        let refusal = tokio::task::spawn_blocking(move || {
            steps
                .iter()
                .find_map(|(i, plugin)| refusal(&spec, *i, plugin, &decided))
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
            // Not pushed (or the store did not answer): one installed here,
            // loaded (compiled, the first time) off the async threads.
            if name.contains('@') {
                return None;
            }
            let (registry, name) = (self.registry.clone(), name.to_string());
            return tokio::task::spawn_blocking(move || registry.get(&name).ok())
                .await
                .ok()
                .flatten();
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

/// How step `i` refuses its params at every nominal size, for any of the
/// distinct sets of asset names the inputs give it; `None` if it does not.
fn refusal(
    spec: &JobSpec,
    i: usize,
    plugin: &Plugin,
    decided: &Mutex<HashMap<CheckKey, Option<String>>>,
) -> Option<String> {
    let StepSpec::Plugin(step) = &spec.steps[i] else {
        return None;
    };
    let params = step.params.to_string();
    let infos = NOMINAL.map(|(frame, _)| nominal_info(spec, i, frame));
    let asset_sets: BTreeSet<Vec<String>> = spec
        .inputs
        .iter()
        .map(|input| input.assets.keys().cloned().collect())
        .collect();
    for names in asset_sets {
        let key = CheckKey {
            digest: plugin.digest().to_string(),
            params: params.clone(),
            assets: names.clone(),
            sizes: infos.iter().map(|info| (info.width, info.height)).collect(),
            limits: serde_json::to_string(&spec.plugin_limits).unwrap_or_default(),
        };
        let known = decided.lock().ok().and_then(|d| d.get(&key).cloned());
        let said = match known {
            Some(said) => said,
            None => {
                let said = try_create(spec, plugin, &params, &names, &infos);
                if let Ok(mut decided) = decided.lock() {
                    if decided.len() >= KEPT {
                        decided.clear();
                    }
                    decided.insert(key, said.clone());
                }
                said
            }
        };
        if let Some(message) = said {
            return Some(format!("steps[{i}]{message}"));
        }
    }
    None
}

/// Creates the step at each nominal size while it refuses; the refusal's
/// words (after `steps[i]`) if every size refused alike.
fn try_create(
    spec: &JobSpec,
    plugin: &Plugin,
    params: &str,
    names: &[String],
    infos: &[MediaInfo; 2],
) -> Option<String> {
    let mut said: Option<String> = None;
    for ((_, asset), info) in NOMINAL.iter().zip(infos) {
        let assets = Arc::new(NominalAssets {
            names: names.to_vec(),
            size: *asset,
            read: AtomicBool::new(false),
        });
        let mut limits = spec.plugin_limits.clone();
        limits.deadline_ms = limits.deadline_ms.min(CHECK_DEADLINE_MS);
        let env = PluginEnv {
            assets: assets.clone(),
            limits,
            ..PluginEnv::default()
        };
        let created = match plugin.kind() {
            PluginKind::Overlay => plugin.overlay(info, params, env).map(drop),
            PluginKind::FrameFilter => plugin.frame_filter(info, params, env).map(drop),
            // The wrong world for a step: the planner says so.
            _ => return None,
        };
        let message = match created {
            Err(error @ PluginError::Refused { .. }) if !assets.read.load(Ordering::Relaxed) => {
                // `steps[i]: …` without its index, which the caller adds.
                crate::job::JobError::plugin("", error).to_string()
            }
            _ => return None,
        };
        match &said {
            Some(earlier) if *earlier != message => return None,
            _ => said = Some(message),
        }
    }
    said
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
