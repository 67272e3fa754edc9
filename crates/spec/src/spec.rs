//! The job spec: what a user asks for, in JSON or TOML, and its validation.
//!
//! Parsing reports the exact field that is wrong (`steps[2].mode: unknown
//! variant ...`); [`JobSpec::validate`] then checks what types cannot say
//! (sizes, ranges, files that must exist) before any work starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::PluginLimits;

/// A whole job: inputs, the steps applied to every frame, how to cut and
/// route it, and what to write.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The job's id; `framejet run` makes one up when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Videos and stills, joined in order into one output.
    pub inputs: Vec<InputSpec>,
    /// Steps applied to every frame of every input, in order.
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    /// The segmenter plugin (default `segment-keyframes`).
    #[serde(default)]
    pub segment: Option<PluginStep>,
    /// The router plugin (default `route-by-size`).
    #[serde(default)]
    pub route: Option<PluginStep>,
    /// What to write.
    #[serde(default)]
    pub output: OutputSpec,
    /// `low`, `normal` (default) or `high`.
    #[serde(default)]
    pub priority: JobPriority,
    /// The most the whole job may take, in seconds.
    #[serde(default)]
    pub timeout_s: Option<u64>,
    /// Limits for every plugin call of this job.
    #[serde(default)]
    pub plugin_limits: PluginLimits,
}

/// One input of a job.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Path of a video or a still image (PNG, JPEG), relative to the spec file.
    pub src: PathBuf,
    /// Named files (logos, fonts) the overlays of this input may read.
    #[serde(default)]
    pub assets: BTreeMap<String, PathBuf>,
    /// For a still image: how long to show it, in seconds (default 3).
    #[serde(default)]
    pub still_seconds: Option<f64>,
}

/// A step: either built into the host (`{"native": "fit", ...}`) or a plugin
/// (`{"plugin": "overlay-logo", "params": {...}}`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum StepSpec {
    Native(NativeStep),
    Plugin(PluginStep),
}

/// Picks the variant by its key (`native` or `plugin`) so that an error
/// inside a step names the step's own field, not "no variant matched".
impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(de)?;
        let inner = |e: serde_path_to_error::Error<serde_json::Error>| {
            D::Error::custom(format!(
                "{SUBFIELD}{}{SUBFIELD}{}",
                e.path(),
                clean_serde_message(&e.inner().to_string())
            ))
        };
        if value.get("native").is_some() {
            NativeStep::from_value(value)
                .map(StepSpec::Native)
                .map_err(inner)
        } else if value.get("plugin").is_some() {
            serde_path_to_error::deserialize(value)
                .map(StepSpec::Plugin)
                .map_err(inner)
        } else {
            Err(D::Error::custom(
                "expected a step: {\"native\": \"fit\" | \"inpaint\", ...} or {\"plugin\": \"name\", \"params\": {...}}",
            ))
        }
    }
}

/// Marks the field path that an inner deserializer prepends to a message.
const SUBFIELD: char = '\u{1f}';

/// A plugin and its params.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginStep {
    /// The plugin's name, or a path to its `.wasm` file.
    pub plugin: String,
    /// Params, passed to the plugin as JSON text.
    #[serde(default = "empty_params")]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub params: serde_json::Value,
}

fn empty_params() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// The steps built into the host, named by their `native` key.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "native", rename_all = "kebab-case")]
pub enum NativeStep {
    /// Scale every input to one size, keeping the aspect ratio.
    Fit(FitStep),
    /// Remove a burned-in watermark.
    Inpaint(InpaintStep),
}

/// `{"native": "fit", ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FitStep {
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub mode: FitMode,
    /// Colour of the bars in `pad` mode, `#RRGGBB` (default black).
    #[serde(default)]
    pub color: Option<String>,
}

/// `{"native": "inpaint", ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InpaintStep {
    pub mask: MaskSpec,
    /// A PNG of the mark with its alpha, for semi-transparent marks.
    #[serde(default)]
    pub logo: Option<PathBuf>,
    /// Where to put the logo PNG's top-left corner (default: the mask's; with
    /// a list of places, each place's, and this may not be given).
    #[serde(default)]
    pub logo_at: Option<[i32; 2]>,
    /// Write the mask used as a PNG beside the output.
    #[serde(default)]
    pub write_mask: bool,
    /// Seconds into each input from which the mark is there (default: its
    /// start). A mark that moves between places takes a list of places as
    /// its `mask`, each with its own time range.
    #[serde(default)]
    pub from: Option<f64>,
    /// Seconds into each input at which the mark is gone (default: its end).
    #[serde(default)]
    pub to: Option<f64>,
}

impl InpaintStep {
    /// The step's time range in microseconds of the input's own time:
    /// frames shown outside it pass through untouched.
    pub fn active_us(&self) -> std::ops::Range<i64> {
        active_us(self.from, self.to)
    }
}

impl NativeStep {
    /// Deserializes the step named by `native`, tracking the path of an
    /// error inside it (serde's internally tagged enums lose it).
    fn from_value(
        mut value: serde_json::Value,
    ) -> Result<Self, serde_path_to_error::Error<serde_json::Error>> {
        let name = value
            .get("native")
            .and_then(|n| n.as_str())
            .map(str::to_string);
        match name.as_deref() {
            Some("fit") | Some("inpaint") => {
                if let Some(object) = value.as_object_mut() {
                    object.remove("native");
                }
                if name.as_deref() == Some("fit") {
                    serde_path_to_error::deserialize(value).map(NativeStep::Fit)
                } else {
                    serde_path_to_error::deserialize(value).map(NativeStep::Inpaint)
                }
            }
            // Let the derived impl say what is wrong with the name.
            _ => serde_path_to_error::deserialize(value),
        }
    }
}

/// How `fit` treats a different aspect ratio.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FitMode {
    /// Scale to fit inside, bars on the sides (default).
    #[default]
    Pad,
    /// Scale to cover, crop the overflow.
    Crop,
    /// Scale to the size exactly, distorting.
    Stretch,
}

/// Where the watermark is.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum MaskSpec {
    /// `{"rect": [x, y, width, height]}` in the input's pixels.
    Rect([u32; 4]),
    /// `{"png": "mask.png"}`: white (or opaque) pixels are the mark.
    Png(PathBuf),
    /// `"auto"`: find the mark from the video: one that stays put, or one
    /// that moves between a few places, each with the time range it is
    /// there.
    Auto,
    /// `[{"rect": [...], "to": 4}, {"png": "b.png", "from": 4}]`: a mark that
    /// moves between places, each with the time range it is there.
    #[serde(untagged)]
    Places(Vec<MaskPlace>),
}

/// One place of a mark that moves: a rectangle or a PNG, and seconds into
/// the input between which the mark is there (within the step's own range).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaskPlace {
    /// `[x, y, width, height]` in the input's pixels (this or `png`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rect: Option<[u32; 4]>,
    /// A mask PNG: white (or opaque) pixels are the mark (this or `rect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub png: Option<PathBuf>,
    /// Seconds into the input from which the mark is here (default: the
    /// step's start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<f64>,
    /// Seconds into the input at which the mark leaves (default: the step's
    /// end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<f64>,
}

impl MaskPlace {
    /// The place's time range in microseconds of the input's own time.
    pub fn active_us(&self) -> std::ops::Range<i64> {
        active_us(self.from, self.to)
    }
}

/// `[from, to)` seconds as microseconds, open where absent.
fn active_us(from: Option<f64>, to: Option<f64>) -> std::ops::Range<i64> {
    let us = |s: f64| (s * 1e6).round() as i64;
    from.map_or(i64::MIN, us)..to.map_or(i64::MAX, us)
}

/// Checks a `from`/`to` pair of seconds at `field` (`steps[2]`).
fn check_time_range(field: &str, from: Option<f64>, to: Option<f64>) -> Result<(), SpecError> {
    for (name, value) in [("from", from), ("to", to)] {
        if let Some(v) = value
            && !(v.is_finite() && (0.0..=1e7).contains(&v))
        {
            return Err(SpecError::invalid(
                format!("{field}.{name}"),
                format!("expected seconds into the input, at least 0, got {v}"),
            ));
        }
    }
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(SpecError::invalid(
            format!("{field}.to"),
            format!("must be after `from` ({from} s), got {to} s"),
        ));
    }
    Ok(())
}

/// What to write.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// `mp4` (default), `mkv`, `mov` or `webm`; `framejet run -o` picks it
    /// from the file name when absent.
    #[serde(default)]
    pub container: Option<String>,
    /// Output frame rate, e.g. `30` or `30000/1001` (default: the first
    /// video input's).
    #[serde(default)]
    pub frame_rate: Option<String>,
    #[serde(default)]
    pub video: VideoSpec,
    #[serde(default)]
    pub audio: AudioSpec,
    /// Title written into the container's metadata.
    #[serde(default)]
    pub title: Option<String>,
}

/// Video encoding settings.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VideoSpec {
    /// `h264` (default), `hevc`, `vp9`, `av1`, `ffv1`, or an FFmpeg encoder name.
    pub codec: String,
    pub rate: RateSpec,
    /// Encoder preset: `ultrafast`, `superfast`, `veryfast` (default),
    /// `faster`, `fast`, `medium`, `slow`, `slower`, `veryslow` or `placebo`,
    /// mapped to each encoder's own setting; or the encoder's own value
    /// (`p1`-`p7` for NVENC, a number for VP9, libaom and SVT-AV1).
    pub preset: Option<String>,
    /// `auto` (the GPU in use, if any, decodes, runs the steps' kernels and encodes with
    /// NVENC where each is possible; else the CPU), `cpu` (everything on the CPU) or `nvenc`
    /// (NVENC required).
    pub hw: HwSpec,
}

impl Default for VideoSpec {
    fn default() -> Self {
        Self {
            codec: "h264".into(),
            rate: RateSpec::default(),
            preset: Some("veryfast".into()),
            hw: HwSpec::Auto,
        }
    }
}

/// Rate control: constant quality (`{"crf": 23}`, the default) or a
/// bitrate (`{"bitrate": "5M", "max_bitrate": "8M"}`), not both.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateSpec {
    #[serde(default)]
    pub crf: Option<u8>,
    #[serde(default)]
    pub bitrate: Option<String>,
    #[serde(default)]
    pub max_bitrate: Option<String>,
}

/// Hardware encoder choice.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum HwSpec {
    #[default]
    Auto,
    Cpu,
    Nvenc,
}

/// Audio settings.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AudioSpec {
    /// `aac` (default; an AAC source covering the whole output is copied) or `none`.
    pub codec: String,
    /// Bitrate of encoded audio, e.g. `192k` (default).
    pub bitrate: String,
}

impl Default for AudioSpec {
    fn default() -> Self {
        Self {
            codec: "aac".into(),
            bitrate: "192k".into(),
        }
    }
}

/// How urgent a job is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum JobPriority {
    Low,
    #[default]
    Normal,
    High,
}

/// A job spec that cannot be used, with the field it is about.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read job spec {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl SpecError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        SpecError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl JobSpec {
    /// Reads a spec from a `.json` or `.toml` file; relative paths in it
    /// are taken relative to the file's directory.
    pub fn from_file(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let is_toml = path.extension().is_some_and(|e| e == "toml");
        let mut spec = if is_toml {
            Self::from_toml(&text)?
        } else {
            Self::from_json(&text)?
        };
        if let Some(base) = path.parent() {
            spec.resolve_paths(base);
        }
        Ok(spec)
    }

    /// Parses JSON, naming the field at fault.
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de)
            .map_err(|e| spec_error(e.path(), &e.inner().to_string()))
    }

    /// Parses TOML, naming the field at fault.
    pub fn from_toml(text: &str) -> Result<Self, SpecError> {
        let de = toml::Deserializer::parse(text)
            .map_err(|e| SpecError::invalid("(toml)", e.to_string().trim().to_string()))?;
        serde_path_to_error::deserialize(de).map_err(|e| spec_error(e.path(), e.inner().message()))
    }

    /// Makes relative input, asset and mask paths relative to `base`.
    /// Names of objects in a fleet's media store (`media:NAME`) and URLs
    /// stay as they are.
    pub fn resolve_paths(&mut self, base: &Path) {
        self.for_each_path(|p| {
            if p.is_relative() && !is_remote(p) {
                *p = base.join(&*p);
            }
        });
    }

    /// Calls `f` on every file the spec names: inputs, their assets, mask
    /// PNGs and logos, in the spec's order.
    pub fn for_each_path(&mut self, f: impl FnMut(&mut PathBuf)) {
        self.for_each_path_of(|_| true, f);
    }

    /// [`JobSpec::for_each_path`] over the inputs `input` keeps (by index)
    /// with their assets, and every mask PNG and logo.
    pub fn for_each_path_of(
        &mut self,
        mut input: impl FnMut(usize) -> bool,
        mut f: impl FnMut(&mut PathBuf),
    ) {
        for (i, spec) in self.inputs.iter_mut().enumerate() {
            if input(i) {
                f(&mut spec.src);
                spec.assets.values_mut().for_each(&mut f);
            }
        }
        for step in &mut self.steps {
            if let StepSpec::Native(NativeStep::Inpaint(InpaintStep { mask, logo, .. })) = step {
                match mask {
                    MaskSpec::Png(p) => f(p),
                    MaskSpec::Places(places) => places
                        .iter_mut()
                        .filter_map(|p| p.png.as_mut())
                        .for_each(&mut f),
                    MaskSpec::Rect(_) | MaskSpec::Auto => {}
                }
                if let Some(p) = logo {
                    f(p);
                }
            }
        }
    }

    /// Checks what the types cannot: sizes, ranges, names, files.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.inputs.is_empty() {
            return Err(SpecError::invalid("inputs", "at least one input is needed"));
        }
        for (i, input) in self.inputs.iter().enumerate() {
            if !input.src.is_file() && !is_remote(&input.src) {
                return Err(SpecError::invalid(
                    format!("inputs[{i}].src"),
                    format!("no such file: {}", input.src.display()),
                ));
            }
            if let Some(s) = input.still_seconds
                && !(s.is_finite() && s > 0.0 && s <= 3600.0)
            {
                return Err(SpecError::invalid(
                    format!("inputs[{i}].still_seconds"),
                    format!("expected a number of seconds in (0, 3600], got {s}"),
                ));
            }
            for (name, path) in &input.assets {
                if !path.is_file() && !is_remote(path) {
                    return Err(SpecError::invalid(
                        format!("inputs[{i}].assets.{name}"),
                        format!("no such file: {}", path.display()),
                    ));
                }
            }
        }
        let mut fits = 0;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                StepSpec::Native(NativeStep::Fit(FitStep {
                    width,
                    height,
                    color,
                    ..
                })) => {
                    fits += 1;
                    check_output_size(*width, *height)
                        .map_err(|m| SpecError::invalid(format!("steps[{i}]"), m))?;
                    if let Some(c) = color {
                        parse_hex_color(c)
                            .map_err(|m| SpecError::invalid(format!("steps[{i}].color"), m))?;
                    }
                }
                StepSpec::Native(NativeStep::Inpaint(InpaintStep {
                    mask,
                    logo,
                    logo_at,
                    from,
                    to,
                    ..
                })) => {
                    check_time_range(&format!("steps[{i}]"), *from, *to)?;
                    let no_file = |field: String, p: &Path| {
                        Err(SpecError::invalid(
                            field,
                            format!("no such file: {}", p.display()),
                        ))
                    };
                    match mask {
                        MaskSpec::Png(p) if !p.is_file() && !is_remote(p) => {
                            return no_file(format!("steps[{i}].mask.png"), p);
                        }
                        MaskSpec::Places(places) => {
                            if places.is_empty() {
                                return Err(SpecError::invalid(
                                    format!("steps[{i}].mask"),
                                    "a list of places needs at least one",
                                ));
                            }
                            if logo_at.is_some() {
                                return Err(SpecError::invalid(
                                    format!("steps[{i}].logo_at"),
                                    "with a list of places the logo goes at each place's top-left corner: leave `logo_at` out",
                                ));
                            }
                            for (k, place) in places.iter().enumerate() {
                                let field = format!("steps[{i}].mask[{k}]");
                                match (&place.rect, &place.png) {
                                    (Some(_), None) => {}
                                    (None, Some(p)) if !p.is_file() && !is_remote(p) => {
                                        return no_file(format!("{field}.png"), p);
                                    }
                                    (None, Some(_)) => {}
                                    _ => {
                                        return Err(SpecError::invalid(
                                            field,
                                            "give a place either `rect` or `png`",
                                        ));
                                    }
                                }
                                check_time_range(&field, place.from, place.to)?;
                            }
                        }
                        _ => {}
                    }
                    if let Some(p) = logo
                        && !p.is_file()
                        && !is_remote(p)
                    {
                        return Err(SpecError::invalid(
                            format!("steps[{i}].logo"),
                            format!("no such file: {}", p.display()),
                        ));
                    }
                }
                StepSpec::Plugin(p) => check_plugin_step(p, &format!("steps[{i}]"))?,
            }
        }
        if fits > 1 {
            return Err(SpecError::invalid("steps", "at most one `fit` step"));
        }
        if self.inputs.len() > 1 && fits == 0 {
            return Err(SpecError::invalid(
                "steps",
                "a job with several inputs needs a `fit` step to give them one size",
            ));
        }
        if let Some(p) = &self.segment {
            check_plugin_step(p, "segment")?;
        }
        if let Some(p) = &self.route {
            check_plugin_step(p, "route")?;
        }
        if let Some(c) = &self.output.container
            && !["mp4", "mkv", "mov", "webm"].contains(&c.as_str())
        {
            return Err(SpecError::invalid(
                "output.container",
                format!("expected one of mp4, mkv, mov, webm, got {c:?}"),
            ));
        }
        if let Some(rate) = &self.output.frame_rate {
            parse_rational(rate).map_err(|m| SpecError::invalid("output.frame_rate", m))?;
        }
        let rate = &self.output.video.rate;
        match (rate.crf, &rate.bitrate) {
            (Some(_), Some(_)) => {
                return Err(SpecError::invalid(
                    "output.video.rate",
                    "give either `crf` or `bitrate`, not both",
                ));
            }
            (Some(crf), None) if crf > 63 => {
                return Err(SpecError::invalid(
                    "output.video.rate.crf",
                    format!("expected 0-63, got {crf}"),
                ));
            }
            _ => {}
        }
        if let Some(b) = &rate.bitrate {
            parse_bitrate(b).map_err(|m| SpecError::invalid("output.video.rate.bitrate", m))?;
        }
        if let Some(max) = &rate.max_bitrate {
            if rate.bitrate.is_none() {
                return Err(SpecError::invalid(
                    "output.video.rate.max_bitrate",
                    "needs `bitrate` too",
                ));
            }
            let max_bps = parse_bitrate(max)
                .map_err(|m| SpecError::invalid("output.video.rate.max_bitrate", m))?;
            let target = rate.bitrate.as_deref().map(parse_bitrate);
            if let Some(Ok(target)) = target
                && max_bps < target
            {
                return Err(SpecError::invalid(
                    "output.video.rate.max_bitrate",
                    format!(
                        "{max:?} is below the bitrate {:?}",
                        rate.bitrate.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        if !["aac", "none"].contains(&self.output.audio.codec.as_str()) {
            return Err(SpecError::invalid(
                "output.audio.codec",
                format!("expected aac or none, got {:?}", self.output.audio.codec),
            ));
        }
        parse_bitrate(&self.output.audio.bitrate)
            .map_err(|m| SpecError::invalid("output.audio.bitrate", m))?;
        if self.timeout_s == Some(0) {
            return Err(SpecError::invalid(
                "timeout_s",
                "expected a number of seconds, at least 1",
            ));
        }
        if let Some(id) = &self.id
            && !valid_job_id(id)
        {
            return Err(SpecError::invalid(
                "id",
                "expected 1-64 characters of a-z, A-Z, 0-9, `-`, `_`",
            ));
        }
        Ok(())
    }

    /// Takes the output container from `output`'s file extension when the
    /// spec names none (`out.mkv` → `mkv`; checked by [`JobSpec::validate`]).
    pub fn default_container_from(&mut self, output: &Path) {
        if self.output.container.is_none() {
            self.output.container = output
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
        }
    }

    /// The `fit` step, if the job has one.
    pub fn fit(&self) -> Option<(u32, u32, FitMode, Option<&str>)> {
        self.steps.iter().find_map(|s| match s {
            StepSpec::Native(NativeStep::Fit(FitStep {
                width,
                height,
                mode,
                color,
            })) => Some((*width, *height, *mode, color.as_deref())),
            _ => None,
        })
    }
}

fn check_plugin_step(step: &PluginStep, field: &str) -> Result<(), SpecError> {
    if step.plugin.trim().is_empty() {
        return Err(SpecError::invalid(
            format!("{field}.plugin"),
            "a plugin name is needed",
        ));
    }
    if !step.params.is_object() {
        return Err(SpecError::invalid(
            format!("{field}.params"),
            "expected a JSON object (a table in TOML)",
        ));
    }
    Ok(())
}

fn check_output_size(width: u32, height: u32) -> Result<(), String> {
    if !(16..=8192).contains(&width) || !(16..=8192).contains(&height) {
        return Err(format!(
            "size {width}x{height}: width and height must be 16-8192"
        ));
    }
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(format!(
            "size {width}x{height}: width and height must be even (4:2:0 video)"
        ));
    }
    Ok(())
}

fn valid_job_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a spec path names something not on this machine: an object of
/// a fleet's media store (`media:NAME`) or an `http(s)://` URL.
pub fn is_remote(path: &Path) -> bool {
    path.to_str().is_some_and(|p| {
        p.starts_with("media:") || p.starts_with("http://") || p.starts_with("https://")
    })
}

/// Parses `#RRGGBB` into RGB.
pub fn parse_hex_color(s: &str) -> Result<[u8; 3], String> {
    let hex = s.strip_prefix('#').unwrap_or(s);
    let ok = hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(format!("expected a colour like #RRGGBB, got {s:?}"));
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    Ok([byte(0), byte(2), byte(4)])
}

/// Parses `30`, `29.97` or `30000/1001` into a fraction.
pub fn parse_rational(s: &str) -> Result<(u32, u32), String> {
    let err = || format!("expected a frame rate like 30, 29.97 or 30000/1001, got {s:?}");
    let (num, den) = if let Some((n, d)) = s.split_once('/') {
        (
            n.trim().parse::<u32>().map_err(|_| err())?,
            d.trim().parse::<u32>().map_err(|_| err())?,
        )
    } else {
        let v: f64 = s.trim().parse().map_err(|_| err())?;
        if !v.is_finite() {
            return Err(err());
        }
        ((v * 1000.0).round() as u32, 1000)
    };
    if num == 0 || den == 0 || num / den > 240 {
        return Err(err());
    }
    Ok((num, den))
}

/// Parses `5M`, `800k` or `192000` into bits per second.
pub fn parse_bitrate(s: &str) -> Result<u64, String> {
    let err = || format!("expected a bitrate like 192k or 5M, got {s:?}");
    let t = s.trim();
    let (digits, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000.0),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000.0),
        _ => (t, 1.0),
    };
    let v: f64 = digits.parse().map_err(|_| err())?;
    let bps = v * mult;
    if !(1_000.0..=1_000_000_000.0).contains(&bps) {
        return Err(err());
    }
    Ok(bps as u64)
}

/// `inputs[0].src` from serde_path_to_error's `inputs.0.src`.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    if out.is_empty() { "(spec)".into() } else { out }
}

/// The error for a message at `path`, joining the path an inner step
/// deserializer put into the message (see [`SUBFIELD`]).
fn spec_error(path: &serde_path_to_error::Path, message: &str) -> SpecError {
    let mut field = field_path(path);
    let mut message = message.to_string();
    let mut parts = message.splitn(3, SUBFIELD);
    if let (Some(_), Some(sub), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
        if sub != "." {
            field = format!("{field}.{sub}");
        }
        // serde_json appends " at line L column C" to custom messages.
        message = rest.split(" at line ").next().unwrap_or(rest).to_string();
    }
    SpecError::invalid(field, clean_serde_message(&message))
}

/// serde's messages say "variant"; users wrote a value.
fn clean_serde_message(message: &str) -> String {
    message
        .replace("unknown variant", "unknown value")
        .replace("unknown field", "unknown key")
}

/// The JSON Schema of a job spec (what `docs/job.schema.json` holds).
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(JobSpec);
    serde_json::to_value(schema).unwrap_or_default()
}
