//! The parts of the native `inpaint` step that read the input as a whole:
//! finding a static mark (`"mask": "auto"`) from frames sampled across it.

use std::path::Path;

use framejet_inpaint::{DetectOptions, Mask, Plane, detect_mask};
use framejet_media::Decoder;

/// Frames sampled across the input to find the mark.
const DETECT_SAMPLES: u64 = 60;

/// Finds the static mark of `src` from frames spread over the whole video.
/// The frames must be `width`x`height`, so `auto` goes before any `fit`.
pub(crate) fn detect_mask_in(src: &Path, width: usize, height: usize) -> Result<Mask, String> {
    let mut decoder = Decoder::open(src).map_err(|e| e.to_string())?;
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
