//! The scalar definitions of the per-pixel kernels, with plain-array signatures: what the CUDA
//! twins (crate `framejet-gpu`) are tested against. Not a processing API: the
//! [`Inpainter`](crate::Inpainter) runs the optimised paths, which are tested against the same
//! definitions.

use crate::blend::{Inversion, PixelKind, invert_reference};
pub use crate::fill::Anisotropy;
use crate::mask::Bounds;
use crate::motion::Motion;
use crate::sampling::{Blocked, taps_at};
use crate::temporal::{Source, fill_reference as temporal_fill_reference};

/// How an un-blend treats each pixel of its box: kept (0), un-blended (1) or a hole (2).
pub const KEEP: u8 = PixelKind::Keep as u8;
pub const INVERT: u8 = PixelKind::Invert as u8;
pub const HOLE: u8 = PixelKind::Hole as u8;

/// Classifies one pixel by its mark alpha, as the inpaint step does.
pub fn pixel_kind(alpha: f32, opaque_alpha: f32) -> u8 {
    if alpha >= opaque_alpha {
        HOLE
    } else if alpha > 0.0 {
        INVERT
    } else {
        KEEP
    }
}

/// Un-blends the pixels of kind [`INVERT`] in the box `[x0, y0, x1, y1)` of a plane `w` wide:
/// `background = (observed − premul) / (1 − alpha)`, rounded (the box's arrays are row-major).
pub fn invert(
    plane: &mut [u8],
    w: usize,
    bounds: [usize; 4],
    kind: &[u8],
    alpha: &[f32],
    premul: &[f32],
) {
    let [x0, y0, x1, y1] = bounds;
    let inv = Inversion::from_parts(
        Bounds { x0, y0, x1, y1 },
        kind.iter()
            .map(|&k| match k {
                INVERT => PixelKind::Invert,
                HOLE => PixelKind::Hole,
                _ => PixelKind::Keep,
            })
            .collect(),
        alpha.to_vec(),
        premul.to_vec(),
    );
    invert_reference(plane, w, &inv);
}

/// The Catmull-Rom weights of the 65 phases (0, 1/64, … 1), four per phase: the table the
/// temporal fill's reads use.
pub fn catmull_rom_taps() -> Vec<f32> {
    (0..=64).flat_map(|p| *taps_at(p as f32 / 64.0)).collect()
}

/// A `w` x `h` map of pixels that are not background (1), widened to an interpolated read's
/// 4x4 footprint (1 also where the footprint leaves the map).
pub fn widen(exact: &[u8], w: usize, h: usize) -> Vec<u8> {
    Blocked::new(exact.to_vec(), w, h).maps().1.to_vec()
}

/// A frame that may show a hole's background: its plane cropped to `w` x `h` at (`x0`, `y0`),
/// `blocked` (same crop) 1 where it is not background, `wide` the same widened to a read's
/// footprint ([`widen`]), and where the target's background sits in it: moved by (`dx`, `dy`)
/// at (`linear[2]`, `linear[3]`), with the linear part `[a -b; b a]`, `a = linear[0]`,
/// `b = linear[1]` (all zero for a translation).
pub struct TemporalSource<'a> {
    pub plane: &'a [u8],
    pub blocked: &'a [u8],
    pub wide: &'a [u8],
    pub w: usize,
    pub h: usize,
    pub x0: usize,
    pub y0: usize,
    pub dx: f32,
    pub dy: f32,
    pub linear: [f32; 4],
}

/// The views a device takes of the inpainter's sources.
pub(crate) fn views<'a>(sources: &'a [Source<'_>]) -> Vec<TemporalSource<'a>> {
    sources
        .iter()
        .map(|s| {
            let (blocked, wide) = s.blocked.maps();
            TemporalSource {
                plane: s.plane,
                blocked,
                wide,
                w: s.w,
                h: s.h,
                x0: s.x0,
                y0: s.y0,
                dx: s.motion.dx,
                dy: s.motion.dy,
                linear: [s.motion.a, s.motion.b, s.motion.cx, s.motion.cy],
            }
        })
        .collect()
}

/// The sources' own `Blocked` maps and views as the inpainter's `Source`s.
fn with_sources<T>(sources: &[TemporalSource<'_>], f: impl FnOnce(&[Source<'_>]) -> T) -> T {
    let blocked: Vec<Blocked> = sources
        .iter()
        .map(|s| Blocked::new(s.blocked.to_vec(), s.w, s.h))
        .collect();
    let sources: Vec<Source<'_>> = sources
        .iter()
        .zip(&blocked)
        .map(|(s, b)| Source {
            plane: s.plane,
            blocked: b,
            w: s.w,
            h: s.h,
            x0: s.x0,
            y0: s.y0,
            motion: {
                let [a, b, cx, cy] = s.linear;
                Motion::similarity(s.dx, s.dy, a, b, (cx, cy))
            },
        })
        .collect();
    f(&sources)
}

/// What the sources show at each pixel of the rectangle `[x0, y0, x1, y1)` (plane
/// coordinates, moved by each source's motion), summed into `sum` and counted in `count`
/// (the rectangle's, row-major): where `sparse` lists the pixels, each is read on its own
/// (Catmull-Rom, clear of the source's holes); else the whole rectangle is shifted, rows then
/// columns, and, with `holes`, the reads that touch a source's holes are left out.
pub fn average_sums(
    rect: [usize; 4],
    sparse: Option<&[u32]>,
    holes: bool,
    sources: &[TemporalSource<'_>],
    sum: &mut [f32],
    count: &mut [u16],
) {
    let [x0, y0, x1, y1] = rect;
    with_sources(sources, |sources| {
        crate::average::sums_reference(
            Bounds { x0, y0, x1, y1 },
            sparse,
            holes,
            sources,
            sum,
            count,
        )
    });
}

pub use crate::average::ShiftedBox;

/// What [`average_sums`] reads of `source` when it shifts the rectangle `[x0, y0, x1, y1)`:
/// the pixels whose four taps each way lie inside the source's crop, and the taps.
pub fn shifted_box(rect: [usize; 4], source: &TemporalSource<'_>) -> Option<ShiftedBox> {
    let [x0, y0, x1, y1] = rect;
    crate::average::shifted_box(
        Bounds { x0, y0, x1, y1 },
        (source.w, source.h),
        (source.x0, source.y0),
        (source.dx, source.dy),
    )
}

/// Fills each hole (plane coordinates) not yet `filled` from the first source that shows it.
pub fn temporal_fill(
    target: &mut [u8],
    w: usize,
    holes: &[(u32, u32)],
    filled: &mut [bool],
    sources: &[TemporalSource<'_>],
) {
    with_sources(sources, |sources| {
        temporal_fill_reference(target, w, holes, filled, sources)
    });
}

/// Fills the unknown pixels (`unknown[i] != 0`) of a `w` x `h` region with the harmonic
/// surface meeting the known ones (pull-push, then red-black sweeps at each level), each pixel
/// weighing its neighbours as `shape` says.
pub fn spatial_fill(values: &mut [f32], unknown: &[u8], w: usize, h: usize, shape: Anisotropy) {
    crate::fill::fill_reference(values, unknown, w, h, shape);
}

/// `sweeps` red-black Gauss-Seidel sweeps at one level (the warm start of a still camera).
pub fn relax(
    values: &mut [f32],
    unknown: &[u8],
    w: usize,
    h: usize,
    sweeps: usize,
    shape: Anisotropy,
) {
    crate::fill::relax_reference(values, unknown, w, h, sweeps, shape);
}

/// The weights of each pixel's neighbours along its row and along its column in a spatial
/// fill weighing them as `shape` says (0 for known pixels; unused by the harmonic fill).
pub fn fill_weights(unknown: &[u8], w: usize, h: usize, shape: Anisotropy) -> [Vec<f32>; 2] {
    crate::fill::weights(unknown, w, h, shape)
}

/// The red-black sweeps the spatial fill runs at each level.
pub const SWEEPS: usize = crate::fill::SWEEPS;
