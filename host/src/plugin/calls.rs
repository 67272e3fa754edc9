//! Calling plugins: one store per call (routers, segmenters) or per video
//! (overlays, filters), a deadline on every call, and checks on everything a
//! plugin returns before the host uses it.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker, ResourceAny};

use super::PluginError;
use super::bindings::frame_filter::exports::framejet::plugin::filters;
use super::bindings::overlay::exports::framejet::plugin::overlays;
use super::bindings::{frame_filter, overlay, router, segmenter, types};
use super::runtime::{EPOCH_TICK, Plugin};
use super::state::{PluginEnv, PluginState, Sprite};
use super::world::PluginKind;

/// The linked, ready-to-instantiate form of a plugin, by world.
pub(crate) enum KindPre {
    Router(router::RouterPre<PluginState>),
    Segmenter(segmenter::SegmenterPre<PluginState>),
    Overlay(overlay::OverlayPre<PluginState>),
    FrameFilter(frame_filter::FrameFilterPre<PluginState>),
}

impl KindPre {
    pub(crate) fn new(
        linker: &Linker<PluginState>,
        component: &wasmtime::component::Component,
        kind: PluginKind,
        name: &str,
    ) -> Result<Self, PluginError> {
        let link_err = |e: wasmtime::Error| PluginError::WrongWorld {
            plugin: name.to_string(),
            expected: kind.to_string(),
            found: format!("a component whose signatures do not match it ({e:#})"),
        };
        let pre: InstancePre<PluginState> = linker.instantiate_pre(component).map_err(link_err)?;
        Ok(match kind {
            PluginKind::Router => Self::Router(router::RouterPre::new(pre).map_err(link_err)?),
            PluginKind::Segmenter => {
                Self::Segmenter(segmenter::SegmenterPre::new(pre).map_err(link_err)?)
            }
            PluginKind::Overlay => Self::Overlay(overlay::OverlayPre::new(pre).map_err(link_err)?),
            PluginKind::FrameFilter => {
                Self::FrameFilter(frame_filter::FrameFilterPre::new(pre).map_err(link_err)?)
            }
        })
    }
}

/// What a router sees of a job.
pub use router::JobInfo;
/// Where a router sends a job.
pub use router::Route;
/// A frame range planned by a segmenter.
pub use segmenter::Segment;

impl Plugin {
    fn wrong_world(&self, expected: PluginKind) -> PluginError {
        PluginError::WrongWorld {
            plugin: self.name.to_string(),
            expected: expected.to_string(),
            found: self.kind().to_string(),
        }
    }

    fn store(&self, env: PluginEnv) -> Store<PluginState> {
        let mut store = Store::new(&self.engine, PluginState::new(self.name.clone(), env));
        store.limiter(|state| state.limiter());
        arm_deadline(&mut store);
        store
    }

    /// Instantiates the plugin in a fresh store and drops it: proves it
    /// links and starts, and is what benchmarks time as "instantiation".
    pub fn instantiate(&self, env: PluginEnv) -> Result<(), PluginError> {
        let mut store = self.store(env);
        let result = match &self.pre {
            KindPre::Router(pre) => pre.instantiate(&mut store).map(drop),
            KindPre::Segmenter(pre) => pre.instantiate(&mut store).map(drop),
            KindPre::Overlay(pre) => pre.instantiate(&mut store).map(drop),
            KindPre::FrameFilter(pre) => pre.instantiate(&mut store).map(drop),
        };
        result.map_err(|e| call_error(&self.name, &store, "instantiate", e))
    }

    /// Asks a router where `job` goes.
    pub fn route(&self, job: &JobInfo, params: &str, env: PluginEnv) -> Result<Route, PluginError> {
        let KindPre::Router(pre) = &self.pre else {
            return Err(self.wrong_world(PluginKind::Router));
        };
        let mut store = self.store(env);
        let call = "route";
        let instance = pre
            .instantiate(&mut store)
            .map_err(|e| call_error(&self.name, &store, call, e))?;
        let route = instance
            .call_route(&mut store, job, params)
            .map_err(|e| call_error(&self.name, &store, call, e))?
            .map_err(|e| refused(&self.name, e))?;
        validate_route(&route).map_err(|reason| invalid(&self.name, call, reason))?;
        Ok(route)
    }

    /// Asks a segmenter to cut a video; checks that the plan covers every
    /// frame exactly once and that each segment starts on a keyframe.
    pub fn plan_segments(
        &self,
        info: &types::MediaInfo,
        params: &str,
        env: PluginEnv,
    ) -> Result<Vec<Segment>, PluginError> {
        let KindPre::Segmenter(pre) = &self.pre else {
            return Err(self.wrong_world(PluginKind::Segmenter));
        };
        let max = env.limits.max_segments;
        let mut store = self.store(env);
        let call = "plan";
        let instance = pre
            .instantiate(&mut store)
            .map_err(|e| call_error(&self.name, &store, call, e))?;
        let segments = instance
            .call_plan(&mut store, info, params)
            .map_err(|e| call_error(&self.name, &store, call, e))?
            .map_err(|e| refused(&self.name, e))?;
        validate_segments(&segments, info, max)
            .map_err(|reason| invalid(&self.name, call, reason))?;
        Ok(segments)
    }

    /// Builds an overlay for one video.
    pub fn overlay(
        &self,
        info: &types::MediaInfo,
        params: &str,
        env: PluginEnv,
    ) -> Result<OverlayInstance, PluginError> {
        let KindPre::Overlay(pre) = &self.pre else {
            return Err(self.wrong_world(PluginKind::Overlay));
        };
        let mut store = self.store(env);
        let call = "create";
        let bindings = pre
            .instantiate(&mut store)
            .map_err(|e| call_error(&self.name, &store, call, e))?;
        let handle = bindings
            .framejet_plugin_overlays()
            .overlay()
            .call_create(&mut store, info, params)
            .map_err(|e| call_error(&self.name, &store, call, e))?
            .map_err(|e| refused(&self.name, e))?;
        Ok(OverlayInstance {
            plugin: self.name.clone(),
            frame_size: (info.width, info.height),
            store,
            bindings,
            handle,
            failed: false,
        })
    }

    /// Builds a frame filter for one video.
    pub fn frame_filter(
        &self,
        info: &types::MediaInfo,
        params: &str,
        env: PluginEnv,
    ) -> Result<FilterInstance, PluginError> {
        let KindPre::FrameFilter(pre) = &self.pre else {
            return Err(self.wrong_world(PluginKind::FrameFilter));
        };
        let mut store = self.store(env);
        let call = "create";
        let bindings = pre
            .instantiate(&mut store)
            .map_err(|e| call_error(&self.name, &store, call, e))?;
        let handle = bindings
            .framejet_plugin_filters()
            .filter()
            .call_create(&mut store, info, params)
            .map_err(|e| call_error(&self.name, &store, call, e))?
            .map_err(|e| refused(&self.name, e))?;
        Ok(FilterInstance {
            plugin: self.name.clone(),
            store,
            bindings,
            handle,
            failed: false,
        })
    }
}

/// One drawing instruction from an overlay plugin.
pub use overlays::{AssetPlacement, DrawOp, RectFill, Region, SpritePlacement};

/// A live overlay: the plugin instance built for one video, asked for the
/// draw ops of each frame.
pub struct OverlayInstance {
    plugin: Arc<str>,
    frame_size: (u32, u32),
    store: Store<PluginState>,
    bindings: overlay::Overlay,
    handle: ResourceAny,
    failed: bool,
}

impl OverlayInstance {
    /// The plugin's name.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The draw ops for one frame, checked against the frame and the limits.
    pub fn frame(&mut self, index: u64, pts_us: i64) -> Result<Vec<DrawOp>, PluginError> {
        let call = "frame";
        if self.failed {
            return Err(stopped(&self.plugin, call));
        }
        arm_deadline(&mut self.store);
        let result = self
            .bindings
            .framejet_plugin_overlays()
            .overlay()
            .call_frame(&mut self.store, self.handle, index, pts_us);
        let ops = match result {
            Ok(ops) => ops,
            Err(e) => {
                self.failed = true;
                return Err(call_error(&self.plugin, &self.store, call, e));
            }
        };
        let state = self.store.data();
        validate_draw_ops(
            &ops,
            self.frame_size,
            state.sprites().len(),
            state.limits().max_draw_ops,
        )
        .map_err(|reason| invalid(&self.plugin, call, reason))?;
        Ok(ops)
    }

    /// The sprites the plugin defined so far, by id.
    pub fn sprites(&self) -> &[Sprite] {
        self.store.data().sprites()
    }
}

/// A decoded frame as a frame-filter plugin sees it.
pub use filters::{Frame as FilterFrame, PixelFormat, Plane as FilterPlane};

/// A live frame filter: the plugin instance built for one video.
pub struct FilterInstance {
    plugin: Arc<str>,
    store: Store<PluginState>,
    bindings: frame_filter::FrameFilter,
    handle: ResourceAny,
    failed: bool,
}

impl FilterInstance {
    /// The plugin's name.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// Runs the filter on one frame; the result must keep the frame's shape.
    pub fn apply(
        &mut self,
        index: u64,
        pts_us: i64,
        frame: &FilterFrame,
    ) -> Result<FilterFrame, PluginError> {
        let call = "apply";
        if self.failed {
            return Err(stopped(&self.plugin, call));
        }
        arm_deadline(&mut self.store);
        let result = self.bindings.framejet_plugin_filters().filter().call_apply(
            &mut self.store,
            self.handle,
            index,
            pts_us,
            frame,
        );
        let out = match result {
            Ok(out) => out.map_err(|e| refused(&self.plugin, e))?,
            Err(e) => {
                self.failed = true;
                return Err(call_error(&self.plugin, &self.store, call, e));
            }
        };
        validate_filter_frame(frame, &out).map_err(|reason| invalid(&self.plugin, call, reason))?;
        Ok(out)
    }
}

/// Sets the store's deadline to the plugin's limit from now.
fn arm_deadline(store: &mut Store<PluginState>) {
    let deadline = store.data().limits().deadline();
    let ticks = deadline.as_micros().div_ceil(EPOCH_TICK.as_micros()).max(1) + 1;
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
}

/// Turns a wasmtime error from a call into the error that says why.
fn call_error(
    plugin: &str,
    store: &Store<PluginState>,
    call: &'static str,
    error: wasmtime::Error,
) -> PluginError {
    let state = store.data();
    if state.memory_exceeded() {
        return PluginError::Memory {
            plugin: plugin.to_string(),
            call,
            limit_mib: state.limits().memory_mib,
        };
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => PluginError::Deadline {
            plugin: plugin.to_string(),
            call,
            limit: state.limits().deadline(),
        },
        Some(trap) => {
            let said = state.stderr_tail();
            let message = if said.is_empty() {
                trap.to_string()
            } else {
                format!("{trap} (the plugin wrote: {said})")
            };
            PluginError::Trap {
                plugin: plugin.to_string(),
                call,
                message,
            }
        }
        None => PluginError::Setup {
            plugin: plugin.to_string(),
            reason: format!("{call}: {error:#}"),
        },
    }
}

fn stopped(plugin: &str, call: &'static str) -> PluginError {
    PluginError::Trap {
        plugin: plugin.to_string(),
        call,
        message: "the instance already failed and cannot be called again".into(),
    }
}

fn refused(plugin: &str, error: types::PluginError) -> PluginError {
    PluginError::Refused {
        plugin: plugin.to_string(),
        field: error.field,
        message: error.message,
    }
}

fn invalid(plugin: &str, call: &'static str, reason: String) -> PluginError {
    PluginError::InvalidOutput {
        plugin: plugin.to_string(),
        call,
        reason,
    }
}

/// Queue names and capabilities are identifiers: they become NATS subjects.
fn is_identifier(s: &str, max_len: usize) -> bool {
    !s.is_empty()
        && s.len() <= max_len
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn validate_route(route: &Route) -> Result<(), String> {
    if !is_identifier(&route.queue, 64) {
        return Err(format!(
            "queue name {:?} is not 1-64 characters of a-z, 0-9, `-`, `_`",
            truncate(&route.queue)
        ));
    }
    if route.capabilities.len() > 16 {
        return Err(format!(
            "{} capabilities; at most 16",
            route.capabilities.len()
        ));
    }
    if let Some(cap) = route.capabilities.iter().find(|c| !is_identifier(c, 32)) {
        return Err(format!(
            "capability {:?} is not 1-32 characters of a-z, 0-9, `-`, `_`",
            truncate(cap)
        ));
    }
    Ok(())
}

fn validate_segments(
    segments: &[Segment],
    info: &types::MediaInfo,
    max_segments: usize,
) -> Result<(), String> {
    if segments.is_empty() {
        return Err("no segments".into());
    }
    if segments.len() > max_segments {
        return Err(format!(
            "{} segments; the limit is {max_segments}",
            segments.len()
        ));
    }
    let mut next = 0u64;
    for (i, seg) in segments.iter().enumerate() {
        if seg.start != next {
            return Err(format!(
                "segment {i} starts at frame {} but frame {next} is next: segments must cover every frame once, in order",
                seg.start
            ));
        }
        if seg.end <= seg.start {
            return Err(format!("segment {i} ({}..{}) is empty", seg.start, seg.end));
        }
        if seg.start != 0 && info.keyframes.binary_search(&seg.start).is_err() {
            return Err(format!(
                "segment {i} starts at frame {}, which is not a keyframe",
                seg.start
            ));
        }
        next = seg.end;
    }
    if next != info.frame_count {
        return Err(format!(
            "segments end at frame {next} but the video has {} frames",
            info.frame_count
        ));
    }
    Ok(())
}

/// How far outside the frame an op may start: four frames' width/height.
/// Anything further cannot be meant (a scrolling ticker starts just off-frame).
const FAR_OUTSIDE: i64 = 4;
/// The largest width or height a rectangle op may have.
const MAX_OP_SIZE: u32 = 16384;
/// The largest scale factor for an asset.
const MAX_SCALE: f32 = 64.0;

fn validate_draw_ops(
    ops: &[DrawOp],
    (width, height): (u32, u32),
    sprites: usize,
    max_ops: usize,
) -> Result<(), String> {
    if ops.len() > max_ops {
        return Err(format!("{} draw ops; the limit is {max_ops}", ops.len()));
    }
    let (w, h) = (i64::from(width), i64::from(height));
    let position_ok = |x: i32, y: i32| {
        (-FAR_OUTSIDE * w..=FAR_OUTSIDE * w).contains(&i64::from(x))
            && (-FAR_OUTSIDE * h..=FAR_OUTSIDE * h).contains(&i64::from(y))
    };
    let opacity_ok = |o: f32| (0.0..=1.0).contains(&o);
    for (i, op) in ops.iter().enumerate() {
        let (x, y) = match op {
            DrawOp::Asset(a) => (a.x, a.y),
            DrawOp::Rect(r) => (r.x, r.y),
            DrawOp::Sprite(s) => (s.x, s.y),
            DrawOp::Inpaint(r) => (r.x, r.y),
        };
        if !position_ok(x, y) {
            return Err(format!(
                "draw op {i} at ({x}, {y}) is far outside the {width}x{height} frame"
            ));
        }
        match op {
            DrawOp::Asset(a) => {
                if !(a.scale.is_finite() && a.scale > 0.0 && a.scale <= MAX_SCALE) {
                    return Err(format!(
                        "draw op {i}: scale {} is not in (0, {MAX_SCALE}]",
                        a.scale
                    ));
                }
                if !opacity_ok(a.opacity) {
                    return Err(format!(
                        "draw op {i}: opacity {} is outside 0..1",
                        a.opacity
                    ));
                }
            }
            DrawOp::Rect(RectFill { width, height, .. })
            | DrawOp::Inpaint(Region { width, height, .. }) => {
                if *width > MAX_OP_SIZE || *height > MAX_OP_SIZE {
                    return Err(format!("draw op {i}: {width}x{height} is too large"));
                }
            }
            DrawOp::Sprite(s) => {
                if s.id as usize >= sprites {
                    return Err(format!(
                        "draw op {i}: sprite {} was never defined ({sprites} defined)",
                        s.id
                    ));
                }
                if !opacity_ok(s.opacity) {
                    return Err(format!(
                        "draw op {i}: opacity {} is outside 0..1",
                        s.opacity
                    ));
                }
            }
        }
    }
    Ok(())
}

fn validate_filter_frame(input: &FilterFrame, output: &FilterFrame) -> Result<(), String> {
    if (output.width, output.height) != (input.width, input.height) {
        return Err(format!(
            "frame is {}x{}, expected {}x{}",
            output.width, output.height, input.width, input.height
        ));
    }
    if output.planes.len() != 3 {
        return Err(format!("{} planes, expected 3", output.planes.len()));
    }
    let (w, h) = (output.width as usize, output.height as usize);
    let dims = [
        (w, h),
        (w.div_ceil(2), h.div_ceil(2)),
        (w.div_ceil(2), h.div_ceil(2)),
    ];
    for (i, (plane, (pw, ph))) in output.planes.iter().zip(dims).enumerate() {
        let stride = plane.stride as usize;
        if stride < pw || plane.data.len() < stride * ph {
            return Err(format!(
                "plane {i} holds {} bytes at stride {stride}; {pw}x{ph} pixels need stride >= {pw} and {} bytes",
                plane.data.len(),
                pw.max(stride) * ph
            ));
        }
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}
