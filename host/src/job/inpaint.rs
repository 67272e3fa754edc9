//! The parts of the native `inpaint` step that see the input as a whole:
//! turning the spec's mask into a [`Mask`] (a rectangle, a PNG, or a static
//! mark found from frames sampled across the video), so that a bad mask
//! fails the job at plan time, before any frame is processed.

use framejet_inpaint::{DetectOptions, Mask, Plane, Rect, detect_mask};
use framejet_media::Decoder;
use serde::{Deserialize, Serialize};

use super::plan::PlanItem;
use super::spec::MaskSpec;

/// The mask an inpaint step uses on one input, as the plan records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaskSummary {
    /// Index of the step in the spec.
    pub step: usize,
    /// Index of the input.
    pub item: usize,
    /// Bounding box `[x, y, width, height]`.
    pub bbox: [i64; 4],
    /// Masked pixels.
    pub pixels: usize,
    /// Whether it was found from the video (`"mask": "auto"`).
    pub detected: bool,
}

/// The mask `spec` describes for a `width`x`height` view of `item`'s input.
pub(crate) fn resolve_mask(
    spec: &MaskSpec,
    item: &PlanItem,
    width: u32,
    height: u32,
) -> Result<Mask, String> {
    let (w, h) = (width as usize, height as usize);
    match spec {
        MaskSpec::Rect([x, y, mw, mh]) => {
            let rect = Rect::new((*x).into(), (*y).into(), (*mw).into(), (*mh).into());
            Mask::from_rect(rect, w, h).map_err(|e| e.to_string())
        }
        MaskSpec::Png(path) => Mask::from_png(path, w, h).map_err(|e| e.to_string()),
        MaskSpec::Auto => detected_mask(item, w, h),
    }
}

/// An input and the frame size its mask was detected at.
type DetectedKey = (std::path::PathBuf, usize, usize);

/// Masks already found in this process, by input and frame size: the plan,
/// every segment and `write_mask` ask for the same one, and detection
/// decodes frames from across the whole input.
static DETECTED: std::sync::Mutex<Vec<(DetectedKey, Mask)>> = std::sync::Mutex::new(Vec::new());

fn detected_mask(item: &PlanItem, width: usize, height: usize) -> Result<Mask, String> {
    let key = (item.src.clone(), width, height);
    if let Some(mask) = DETECTED.lock().ok().and_then(|found| {
        found
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, m)| m.clone())
    }) {
        return Ok(mask);
    }
    let mask = detect_mask_in(item, width, height)?;
    if let Ok(mut found) = DETECTED.lock() {
        found.push((key, mask.clone()));
    }
    Ok(mask)
}

/// Summarises `mask` for the plan and the job log.
pub(crate) fn summarize(mask: &Mask, step: usize, item: usize, detected: bool) -> MaskSummary {
    let b = mask.bbox();
    MaskSummary {
        step,
        item,
        bbox: [b.x, b.y, b.width as i64, b.height as i64],
        pixels: mask.count(),
        detected,
    }
}

/// Frames sampled across the input to find the mark.
const DETECT_SAMPLES: u64 = 60;

/// Finds the static mark of `item`'s input from frames spread over the whole
/// video (its decoder opened from the plan's probe when there is one). The
/// frames must be `width`x`height`, so `auto` goes before any `fit`.
fn detect_mask_in(item: &PlanItem, width: usize, height: usize) -> Result<Mask, String> {
    let decoder = match &item.probe {
        Some(probe) => Decoder::open_probed(&item.src, probe),
        None => Decoder::open(&item.src),
    };
    let mut decoder = decoder.map_err(|e| e.to_string())?;
    let frames = decoder.info().video.frame_count;
    let step = (frames / DETECT_SAMPLES).max(1);
    let mut samples = Vec::new();
    let mut n = 0;
    while n < frames && (samples.len() as u64) < DETECT_SAMPLES {
        decoder.seek_to_frame(n).map_err(|e| e.to_string())?;
        let Some(frame) = decoder.next_frame().map_err(|e| e.to_string())? else {
            break;
        };
        if (frame.width() as usize, frame.height() as usize) != (width, height) {
            return Err(format!(
                "`\"mask\": \"auto\"` finds the mark on the input's {}x{} frames, but this step sees {width}x{height}: put the inpaint step before `fit`",
                frame.width(),
                frame.height()
            ));
        }
        samples.push(frame);
        n += step;
    }
    let planes = samples
        .iter()
        .map(|f| Plane::new(f.plane(0), f.plane_width(0), f.plane_height(0), f.stride(0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    detect_mask(planes, &DetectOptions::default()).map_err(|e| e.to_string())
}
