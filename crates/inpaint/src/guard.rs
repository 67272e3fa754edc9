//! The check every restored frame passes before it is output, so that a wrong mark model or a
//! motion miss degrades to a smooth fill from the surroundings (what the classic filters do)
//! instead of leaving the mark or adding a smear.
//!
//! A restoration that is right leaves the masked area with the texture of its surroundings:
//! the background's gradients do not know where the mark's edges were. One that is wrong
//! leaves the mark's shape behind (a ghost of its edges where the model's opacity or colour is
//! off; a seam where a copied patch does not line up), or garbage (an un-blend that divides
//! compression noise by a small `1 - alpha`). So, on luma, the mean absolute gradient is taken
//! over three sets of neighbouring pixel pairs:
//! - **edges**: pairs across which the mark's opacity steps (its outline, and the mask's);
//! - **flat**: pairs inside the mask where the opacity is even;
//! - **ring**: pairs outside the mask, in a band around it.
//!
//! The frame's *excess* is how far the edges stand out from the rest (flat and ring together,
//! or the ring alone where it is busier: an edge pair is half outside the mask, and a smooth
//! background inside, copied or filled, must not make the ring's own texture at the mark's
//! outline look like a seam), and how far the inside stands out from the ring, each relative to a tolerance for noise
//! ([`PartScore::excess`]); above 1 the restoration is suspect. With a model of the mark, a
//! sharper test joins them: across each edge, the step of the restored frame is taken in the
//! direction the mark pushes it (towards the mark's colour, on the more opaque side). The
//! background's own steps have no reason to follow that direction and average out; what is
//! left of the mark (or an over-correction) does not, so their mean, against its standard
//! error, tells a faint ghost on busy texture from the texture itself. Such a ghost is filled
//! only when it is also a good part of the texture's own step between neighbours: below that
//! the texture hides it, and a fill would lose more of the texture than the ghost shows. The
//! decision is smoothed over time with hysteresis ([`Verdicts`]), so borderline content does
//! not flicker between the two.
//!
//! The same check runs on each square tile of the mask ([`TILE`] pixels a side) on its own,
//! with the ring beside the tile as its reference where the tile has enough of one. A rejected
//! frame is filled from its surroundings ([`Guard::fill`]), all planes, where its restoration
//! did not hold: in the tiles that fail their own check (a mark's estimate that is off only
//! where it crosses a smooth patch leaves its ghost there alone, and the rest of the frame
//! keeps its restoration), with those that have too few of the mark's edges to be judged on
//! their own (deep inside a mark of even opacity, a restoration off by a smooth amount shows
//! nothing a tile's check can see) where nearly every tile judged fails, or over the whole
//! mask where no tile fails on its own (evidence spread thinly over the whole outline).

use crate::fill::{self, Anisotropy};
use crate::inpainter::{STILL_BLEND, WARM_SWEEPS};
use crate::logo::LogoModel;
use crate::mask::{Bounds, Mask};
use crate::plane::{Yuv420Frame, to_pixel};

/// Width of the band around the mask whose texture is the reference, in luma pixels.
const RING: usize = 4;
/// An opacity step at least this large between neighbours makes their pair an edge.
const EDGE_STEP: f32 = 0.12;
/// An opacity step at most this large between neighbours inside the mask makes it flat.
const FLAT_STEP: f32 = 0.03;
/// How much more gradient the edges may carry than the rest (ratio, and levels of noise).
const EDGE_RATIO: f32 = 1.5;
const EDGE_NOISE: f32 = 1.5;
/// How much more gradient the inside may carry than the ring.
const INSIDE_RATIO: f32 = 1.6;
const INSIDE_NOISE: f32 = 2.0;
/// Mean absolute change of the ring from the previous frame (levels) from which a frame shows
/// the mark over a new background: only such frames add evidence about the mark's edges.
const MOVED_LEVELS: f32 = 2.0;
/// Tolerance of the mean directed step across the mark's edges: standard errors, and levels.
const DIRECTED_ERRORS: f32 = 3.0;
const DIRECTED_NOISE: f32 = 1.5;
/// Share of the texture's own mean step between neighbours (levels, around the mark) that the
/// directed step must pass as well as its tolerance: busy texture hides a ghost below that,
/// which a smooth background shows, and a fill of such texture loses more of it than the
/// ghost shows.
const DIRECTED_MASKING: f32 = 0.65;
/// Edges where the mark's colour is within this of the background tell nothing of direction.
const DIRECTED_CONTRAST: f32 = 12.0;
/// Weight of a new frame's excess in the smoothed one.
const SMOOTHING: f32 = 0.5;
/// Weight of a new frame's directed step in the smoothed one: the mark stays where it is while
/// the background changes, so evidence of it adds up over frames.
const DIRECTED_SMOOTHING: f32 = 0.25;
/// Smoothed excess above which frames are filled from their surroundings, and below which
/// they are restored again.
const REJECT_ABOVE: f32 = 1.0;
const ACCEPT_BELOW: f32 = 0.75;
/// Opacity up to which a pixel is left as it is by the fallback: the mark moves it by at most
/// this fraction of its difference from the mark's colour, less than a fill's own error.
const COVERED_ALPHA: f32 = 0.03;
/// Mean opacity over the mask below which a model is taken to have missed the mark.
const WEAK_MODEL: f32 = 0.03;
/// Gaps (pixels) across which an estimate's unmarked pixels count as enclosed by the mark.
const HOLE_CLOSE: usize = 2;
/// Known pixels around the mask that a fill reads.
const FILL_MARGIN: usize = 2;
/// Side (luma pixels) of the square tiles the mask is also checked in.
const TILE: usize = 48;
/// Fewest edge pairs in a tile for it to be judged on its own: a tile inside a mark of even
/// opacity has no edges of its own, and a restoration that is off there by a smooth amount
/// shows nothing its check can see.
const MIN_TILE_EDGES: usize = 48;
/// Share of the tiles judged on their own that fail, in a rejected frame, from which the
/// restoration is taken to be wrong throughout, and the tiles that cannot be judged are filled
/// with them (where fewer fail, the restoration inside, of something that moves across a
/// still scene, say, is kept).
const WIDESPREAD_FAILURE: f32 = 0.75;
/// Fewest ring pairs beside a tile for them to be its reference; with fewer (a tile inside a
/// large mask), the whole ring is.
const MIN_TILE_RING: usize = 48;

/// Mean absolute luma gradients of one restored frame, over the whole mask and per tile, and
/// the luma of the ring (to tell whether the background changed since the last frame).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Score {
    all: PartScore,
    tiles: Vec<PartScore>,
    ring_luma: Vec<u8>,
}

impl Score {
    /// How much the mask's edges or inside stand out (see [`PartScore::excess`]).
    #[cfg(test)]
    fn excess(&self, trusted: bool) -> f32 {
        self.all.excess(trusted)
    }
}

/// Mean absolute luma gradients of one part of a restored frame (the whole mask, or a tile)
/// over the three sets of pairs, and its directed steps across the mark's edges.
#[derive(Clone, Debug, Default, PartialEq)]
struct PartScore {
    edges: f32,
    flat: f32,
    ring: f32,
    /// Mean over flat and ring together.
    rest: f32,
    /// Mean and standard error of the directed steps across the mark's edges (0 without a
    /// model).
    directed: f32,
    directed_error: f32,
    /// Edge pairs the part has: without any, it cannot show a ghost or a seam of its own.
    edge_pairs: usize,
}

impl PartScore {
    /// How much the edges or the inside stand out: above 1, the restoration is suspect. With
    /// a `trusted` model (a mark's own image) the inside is not held to the ring's texture:
    /// there, texture inside that differs from the ring's is the background's own.
    fn excess(&self, trusted: bool) -> f32 {
        let edges = self.edges / (EDGE_RATIO * self.rest.max(self.ring) + EDGE_NOISE);
        if trusted {
            return edges;
        }
        let inside = self.flat / (INSIDE_RATIO * self.ring + INSIDE_NOISE);
        edges.max(inside)
    }
}

/// Sums over one part's pairs in one frame, from which its [`PartScore`] follows; the whole
/// mask's are the tiles' added up.
#[derive(Clone, Copy, Default)]
struct PartSums {
    edges: (f32, usize),
    flat: (f32, usize),
    ring: (f32, usize),
    /// Σ directed step, Σ its square, and their count.
    directed: (f32, f32, usize),
}

impl PartSums {
    fn add(self, o: Self) -> Self {
        let pair = |a: (f32, usize), b: (f32, usize)| (a.0 + b.0, a.1 + b.1);
        Self {
            edges: pair(self.edges, o.edges),
            flat: pair(self.flat, o.flat),
            ring: pair(self.ring, o.ring),
            directed: (
                self.directed.0 + o.directed.0,
                self.directed.1 + o.directed.1,
                self.directed.2 + o.directed.2,
            ),
        }
    }

    /// The scores, with `ring` as the reference texture.
    fn score(&self, ring: (f32, usize)) -> PartScore {
        let mean = |(sum, n): (f32, usize)| if n == 0 { 0.0 } else { sum / n as f32 };
        let (sum, squares, n) = self.directed;
        let (directed, directed_error) = if n < 8 {
            (0.0, 0.0)
        } else {
            let m = sum / n as f32;
            // Neighbouring edges see correlated texture: a quarter of them count as independent.
            let deviation = (squares / n as f32 - m * m).max(0.0).sqrt();
            (m, deviation / (n as f32 / 4.0).sqrt())
        };
        PartScore {
            directed,
            directed_error,
            edge_pairs: self.edges.1,
            edges: mean(self.edges),
            flat: mean(self.flat),
            ring: mean(ring),
            rest: mean((self.flat.0 + ring.0, self.flat.1 + ring.1)),
        }
    }
}

/// Pairs of neighbouring luma pixels, as offsets into the plane.
#[derive(Default)]
struct Pairs(Vec<(u32, u32)>);

impl Pairs {
    fn mean_gradient(&self, luma: &[u8]) -> (f32, usize) {
        let sum: u32 = self
            .0
            .iter()
            .map(|&(a, b)| u32::from(luma[a as usize].abs_diff(luma[b as usize])))
            .sum();
        (sum as f32, self.0.len())
    }
}

/// One plane's fill of every masked pixel.
struct PlaneFill {
    w: usize,
    region: Bounds,
    unknown: Vec<u8>,
    /// The region indices of the pixels filled, in order.
    filled: Vec<u32>,
    /// The relaxation of `unknown`, for a fill that starts from the previous frame's.
    stencils: fill::Stencils,
}

/// What a fallback fill put in each plane's filled pixels (in the order of the fill region's
/// rows): where the next frame's starts when the camera is still.
pub(crate) struct Fallback {
    values: [Vec<f32>; 3],
    /// Whether it filled the whole mask.
    whole: bool,
}

/// An edge of the mark: the pixel on its more opaque side, the one on the other, and the
/// mark's colour there (luma).
struct Edge {
    opaque: u32,
    other: u32,
    colour: f32,
}

/// The pairs of one tile of the mask.
#[derive(Default)]
struct Part {
    directed: Vec<Edge>,
    edges: Pairs,
    flat: Pairs,
    ring: Pairs,
}

impl Part {
    fn sums(&self, luma: &[u8]) -> PartSums {
        // Directed steps: positive where the frame steps towards the mark's colour on its
        // opaque side.
        let (mut sum, mut squares, mut n) = (0.0f32, 0.0f32, 0usize);
        for e in &self.directed {
            let (a, b) = (
                f32::from(luma[e.opaque as usize]),
                f32::from(luma[e.other as usize]),
            );
            let towards = e.colour - 0.5 * (a + b);
            if towards.abs() < DIRECTED_CONTRAST {
                continue;
            }
            let step = (a - b) * towards.signum();
            sum += step;
            squares += step * step;
            n += 1;
        }
        PartSums {
            edges: self.edges.mean_gradient(luma),
            flat: self.flat.mean_gradient(luma),
            ring: self.ring.mean_gradient(luma),
            directed: (sum, squares, n),
        }
    }
}

/// The mask's bounds cut into [`TILE`]-sized squares; a pixel of the ring around it belongs to
/// the tile nearest.
#[derive(Clone, Copy)]
struct Tiling {
    bounds: Bounds,
    across: usize,
    down: usize,
}

impl Tiling {
    fn new(bounds: Bounds) -> Self {
        Self {
            bounds,
            across: bounds.width().div_ceil(TILE).max(1),
            down: bounds.height().div_ceil(TILE).max(1),
        }
    }

    fn len(&self) -> usize {
        self.across * self.down
    }

    /// The tile of luma pixel (`x`, `y`).
    fn of(&self, x: usize, y: usize) -> usize {
        let b = self.bounds;
        let tx = (x.saturating_sub(b.x0) / TILE).min(self.across - 1);
        let ty = (y.saturating_sub(b.y0) / TILE).min(self.down - 1);
        ty * self.across + tx
    }
}

/// The check and the fallback fill, set up once per mask and model.
pub(crate) struct Guard {
    tiling: Tiling,
    tiles: Vec<Part>,
    /// Every other pixel of the ring.
    ring_pixels: Vec<u32>,
    /// The fill of what the mark covers.
    planes: [PlaneFill; 3],
    /// For an estimate, the fill of the whole mask, for a still camera: where nothing moved
    /// under the mark, nothing told its faint or flat parts from the picture.
    whole: Option<[PlaneFill; 3]>,
    /// What `planes` and `whole` fill, as luma bits over the mask's bounds (for a fill of
    /// some tiles only).
    covered: Vec<u8>,
    masked: Vec<u8>,
    width: usize,
    height: usize,
    /// How the fallback fill weighs a pixel's neighbours.
    shape: Anisotropy,
}

impl Guard {
    /// A guard for `mask`, with the mark's opacity from `logo` (else opaque over the mask),
    /// `trusted` when that is the mark's own image rather than an estimate, whose fallback
    /// fill weighs neighbours as `shape` says.
    pub fn new(mask: &Mask, logo: Option<&LogoModel>, trusted: bool, shape: Anisotropy) -> Self {
        let (w, h) = (mask.width(), mask.height());
        let bits = mask.plane_bits(0);
        let alpha = |x: usize, y: usize| -> f32 {
            let masked = bits[y * w + x] != 0;
            match logo {
                _ if !masked => 0.0,
                Some(l) => l.alpha(0, x, y),
                None => 1.0,
            }
        };
        let tiling = Tiling::new(mask.bounds());
        let mut tiles: Vec<Part> = (0..tiling.len()).map(|_| Part::default()).collect();
        // The morphology below runs on a window around the mask, not the frame: nothing it
        // sets reaches the window's edge (a closing stays within the mask's bounds, the ring
        // within RING of them), so the result is the frame's.
        let win = mask.bounds().grown(RING.max(HOLE_CLOSE) + 2, w, h);
        let ww = win.width();
        let at = |i: usize| (win.x0 + i % ww, win.y0 + i / ww);
        let local = |x: usize, y: usize| (y - win.y0) * ww + (x - win.x0);
        let win_bits: Vec<u8> = (win.y0..win.y1)
            .flat_map(|y| bits[y * w + win.x0..y * w + win.x1].iter().copied())
            .collect();
        let b = mask.bounds().grown(RING, w, h);
        let near = crate::morph::dilate(&win_bits, ww, win.height(), RING);
        for y in b.y0..b.y1 {
            for x in b.x0..b.x1 {
                let part = &mut tiles[tiling.of(x, y)];
                for (nx, ny) in [(x + 1, y), (x, y + 1)] {
                    if nx >= b.x1 || ny >= b.y1 {
                        continue;
                    }
                    let (i, j) = (y * w + x, ny * w + nx);
                    let pair = (i as u32, j as u32);
                    let (mi, mj) = (bits[i] != 0, bits[j] != 0);
                    let step = (alpha(x, y) - alpha(nx, ny)).abs();
                    if (mi || mj) && step >= EDGE_STEP {
                        part.edges.0.push(pair);
                        let ((ox, oy), opaque, other) = if alpha(x, y) > alpha(nx, ny) {
                            ((x, y), i, j)
                        } else {
                            ((nx, ny), j, i)
                        };
                        if let Some(colour) = logo.and_then(|l| l.plane(0).colour_at(ox, oy)) {
                            part.directed.push(Edge {
                                opaque: opaque as u32,
                                other: other as u32,
                                colour,
                            });
                        }
                    } else if mi && mj && step <= FLAT_STEP {
                        part.flat.0.push(pair);
                    } else if !mi && !mj && near[local(x, y)] != 0 && near[local(nx, ny)] != 0 {
                        part.ring.0.push(pair);
                    }
                }
            }
        }
        // The fallback fills what the mark covers (grown by a pixel for its soft edges, and
        // within the mask): pixels the model leaves unmarked, or all but unmarked, are
        // background already, and the nearer the known pixels, the better the fill. An
        // estimate may leave unmarked what lies inside the mark (where nothing moved under
        // it, nothing told the mark from the picture: a disc taken for a ring), so for an
        // estimate what the mark encloses is filled too, and on a still camera the whole mask
        // (`Guard::whole`: nothing moved under the mark). A model that finds next to no mark
        // inside the mask it was given has missed it (the mask is there because there is a
        // mark): its fallback fills the whole mask.
        let (mass, masked) = (0..win_bits.len()).filter(|&i| win_bits[i] != 0).fold(
            (0.0f32, 0usize),
            |(m, n), i| {
                let (x, y) = at(i);
                (m + alpha(x, y), n + 1)
            },
        );
        let missed = mass < WEAK_MODEL * masked as f32;
        let near_mark: Vec<u8> = (0..win_bits.len())
            .map(|i| {
                let (x, y) = at(i);
                u8::from(missed || alpha(x, y) > COVERED_ALPHA)
            })
            .collect();
        let near_mark = if trusted {
            near_mark
        } else {
            let (ww, wh) = (ww, win.height());
            crate::morph::fill_holes(&crate::morph::close(&near_mark, ww, wh, HOLE_CLOSE), ww, wh)
        };
        let near_mark = crate::morph::dilate(&near_mark, ww, win.height(), 1);
        let mut covered = vec![0u8; w * h];
        for (y, row) in (win.y0..win.y1).zip(near_mark.chunks_exact(ww)) {
            let frame_row = y * w + win.x0..y * w + win.x1;
            for ((c, &n), &m) in covered[frame_row.clone()]
                .iter_mut()
                .zip(row)
                .zip(&bits[frame_row])
            {
                *c = n & u8::from(m != 0);
            }
        }
        let planes = plane_fills(mask, &covered, shape);
        let whole = (!trusted && covered.iter().zip(bits).any(|(&c, &m)| m != 0 && c == 0))
            .then(|| plane_fills(mask, bits, shape));
        let in_bounds = |bits: &[u8]| -> Vec<u8> {
            let b = tiling.bounds;
            (b.y0..b.y1)
                .flat_map(|y| bits[y * w + b.x0..y * w + b.x1].iter().copied())
                .collect()
        };
        let ring_pixels = (tiles.iter())
            .flat_map(|t| t.ring.0.iter().map(|&(a, _)| a))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .step_by(2)
            .collect();
        Self {
            tiling,
            tiles,
            ring_pixels,
            planes,
            whole,
            covered: in_bounds(&covered),
            masked: in_bounds(bits),
            width: w,
            height: h,
            shape,
        }
    }

    /// Scores a restored frame: the whole mask, and each tile against the ring beside it (or
    /// the whole ring, where it has little beside it).
    pub fn score(&self, frame: &Yuv420Frame) -> Score {
        let luma = frame.data(0);
        let sums: Vec<PartSums> = self.tiles.iter().map(|t| t.sums(luma)).collect();
        let all = sums.iter().fold(PartSums::default(), |a, &t| a.add(t));
        let tiles = sums
            .iter()
            .map(|t| {
                let ring = if t.ring.1 >= MIN_TILE_RING {
                    t.ring
                } else {
                    all.ring
                };
                t.score(ring)
            })
            .collect();
        Score {
            all: all.score(all.ring),
            tiles,
            ring_luma: self.ring_pixels.iter().map(|&i| luma[i as usize]).collect(),
        }
    }

    /// Fills what the mark covers in `frame` (for an estimate on a still camera, `still`, the
    /// whole mask), all planes, smoothly from its surroundings, in the `tiles` marked (as
    /// [`Verdicts::reject`] gives them; every tile while the camera is `still`). Over every
    /// tile, with `previous` (the fallback of the
    /// frame before, the camera still), the fill starts from it and moves only part of the
    /// way, as the restorer's own fill of a still camera does: a few sweeps instead of a fresh
    /// solve, and no flicker from the noise around the mask. Returns what it filled, for the
    /// next frame to start from, when it filled every tile.
    pub fn fill(
        &self,
        frame: &mut Yuv420Frame,
        previous: Option<&Fallback>,
        still: bool,
        tiles: &[bool],
    ) -> Option<Fallback> {
        let whole = still && self.whole.is_some();
        // On a still camera every tile is filled: its fill starts from the frame before's,
        // which is far cheaper than a fresh one, and nothing moved under the mark to restore
        // it from in the first place.
        if !still && tiles.iter().any(|&t| !t) {
            self.fill_tiles(frame, whole, tiles);
            return None;
        }
        let setups = match &self.whole {
            Some(setups) if whole => setups,
            _ => &self.planes,
        };
        let previous = previous.filter(|f| f.whole == whole);
        let [y, u, v] = frame.data_mut_all();
        let previous = |p: usize| previous.map(|f| f.values[p].as_slice());
        let (fy, (fu, fv)) = rayon::join(
            || setups[0].fill(y, previous(0), self.shape),
            || {
                rayon::join(
                    || setups[1].fill(u, previous(1), self.shape),
                    || setups[2].fill(v, previous(2), self.shape),
                )
            },
        );
        Some(Fallback {
            values: [fy, fu, fv],
            whole,
        })
    }

    /// Every tile marked, for [`fill`](Self::fill).
    #[cfg(test)]
    fn every_tile(&self) -> Vec<bool> {
        vec![true; self.tiles.len()]
    }

    /// [`fill`](Self::fill) of some tiles only, afresh: what the fallback fills (the whole
    /// mask when `whole`) within the `tiles` marked. A chroma pixel is filled when any luma
    /// pixel it covers is.
    fn fill_tiles(&self, frame: &mut Yuv420Frame, whole: bool, tiles: &[bool]) {
        let base = if whole { &self.masked } else { &self.covered };
        let (w, h) = (self.width, self.height);
        let bounds = self.tiling.bounds;
        // Over the mask's bounds.
        let bw = bounds.width();
        let unknown: Vec<u8> = (bounds.y0..bounds.y1)
            .flat_map(|y| (bounds.x0..bounds.x1).map(move |x| (x, y)))
            .zip(base)
            .map(|((x, y), &b)| u8::from(b != 0 && tiles[self.tiling.of(x, y)]))
            .collect();
        let unknown_at = |x: usize, y: usize| {
            (bounds.x0..bounds.x1).contains(&x)
                && (bounds.y0..bounds.y1).contains(&y)
                && unknown[(y - bounds.y0) * bw + x - bounds.x0] != 0
        };
        let [y, u, v] = frame.data_mut_all();
        let fill = |plane: &mut [u8], p: usize| {
            let scale = if p == 0 { 1 } else { 2 };
            let (pw, ph) = (w.div_ceil(scale), h.div_ceil(scale));
            let b = if p == 0 {
                bounds
            } else {
                bounds.halved(pw, ph)
            };
            let region = b.grown(FILL_MARGIN, pw, ph);
            let (rw, rh) = (region.width(), region.height());
            let mut bits = Vec::with_capacity(rw * rh);
            let mut values = Vec::with_capacity(rw * rh);
            for y in region.y0..region.y1 {
                for x in region.x0..region.x1 {
                    let covers = (y * scale..((y + 1) * scale).min(h)).any(|ly| {
                        (x * scale..((x + 1) * scale).min(w)).any(|lx| unknown_at(lx, ly))
                    });
                    bits.push(u8::from(covers));
                    values.push(f32::from(plane[y * pw + x]));
                }
            }
            fill::fill(&mut values, &bits, rw, rh, self.shape);
            for (i, (&bit, &v)) in bits.iter().zip(&values).enumerate() {
                if bit != 0 {
                    plane[(region.y0 + i / rw) * pw + region.x0 + i % rw] = to_pixel(v);
                }
            }
        };
        rayon::join(|| fill(y, 0), || rayon::join(|| fill(u, 1), || fill(v, 2)));
    }
}

impl PlaneFill {
    /// [`Guard::fill`] of its plane, weighing neighbours as `shape` says (as its stencils
    /// were built); returns the values it filled in.
    fn fill(&self, plane: &mut [u8], previous: Option<&[f32]>, shape: Anisotropy) -> Vec<f32> {
        let r = self.region;
        let (rw, rh) = (r.width(), r.height());
        let mut values = Vec::with_capacity(rw * rh);
        for y in r.y0..r.y1 {
            values.extend(
                plane[y * self.w + r.x0..y * self.w + r.x1]
                    .iter()
                    .map(|&v| f32::from(v)),
            );
        }
        let filled = &self.filled;
        let out: Vec<f32> = match previous {
            Some(prev) => {
                for (&i, &v) in filled.iter().zip(prev) {
                    values[i as usize] = v;
                }
                self.stencils.relax(&mut values, WARM_SWEEPS);
                (filled.iter().zip(prev))
                    .map(|(&i, &v)| v + STILL_BLEND * (values[i as usize] - v))
                    .collect()
            }
            None => {
                fill::fill(&mut values, &self.unknown, rw, rh, shape);
                filled.iter().map(|&i| values[i as usize]).collect()
            }
        };
        for (&i, &v) in filled.iter().zip(&out) {
            let i = i as usize;
            plane[(r.y0 + i / rw) * self.w + r.x0 + i % rw] = to_pixel(v);
        }
        out
    }
}

/// The fills of `unknown` (full-resolution bits, within `mask`), per plane: a chroma pixel is
/// unknown when any luma pixel it covers is.
fn plane_fills(mask: &Mask, unknown: &[u8], shape: Anisotropy) -> [PlaneFill; 3] {
    let (w, h) = (mask.width(), mask.height());
    std::array::from_fn(|p| {
        let (pw, ph) = mask.plane_size(p);
        let bounds = if p == 0 {
            mask.bounds()
        } else {
            mask.bounds().halved(pw, ph)
        };
        let region = bounds.grown(FILL_MARGIN, pw, ph);
        let scale = if p == 0 { 1 } else { 2 };
        let is_unknown = |x: usize, y: usize| {
            (y * scale..((y + 1) * scale).min(h))
                .any(|ly| (x * scale..((x + 1) * scale).min(w)).any(|lx| unknown[ly * w + lx] != 0))
        };
        let mut bits = Vec::with_capacity(region.width() * region.height());
        for y in region.y0..region.y1 {
            bits.extend((region.x0..region.x1).map(|x| u8::from(is_unknown(x, y))));
        }
        PlaneFill {
            w: pw,
            filled: (0..bits.len() as u32)
                .filter(|&i| bits[i as usize] != 0)
                .collect(),
            stencils: fill::Stencils::new(&bits, region.width(), region.height(), shape),
            region,
            unknown: bits,
        }
    })
}

/// The decisions over a stream of frames, on the whole mask and on each tile: the smoothed
/// excess and directed step, and whether frames are being filled from their surroundings.
#[derive(Clone, Debug, Default)]
pub(crate) struct Verdicts {
    /// Whether the model is the mark's own image (see [`PartScore::excess`]).
    trusted: bool,
    all: Hysteresis,
    tiles: Vec<Hysteresis>,
    previous_ring: Vec<u8>,
}

/// One part's decision over the frames so far.
#[derive(Clone, Debug, Default)]
struct Hysteresis {
    smoothed: Option<Smoothed>,
    rejecting: bool,
}

#[derive(Clone, Copy, Debug)]
struct Smoothed {
    excess: f32,
    /// The texture around (the mean gradient over flat and ring).
    rest: f32,
    directed: f32,
    directed_error: f32,
    /// Frames that showed the mark over a new background.
    independent: u32,
}

impl Verdicts {
    /// The decisions on frames restored with an estimated model, or with the mark's own
    /// image when `trusted`.
    pub fn new(trusted: bool) -> Self {
        Self {
            trusted,
            ..Self::default()
        }
    }

    /// Whether the frame scoring `score`, the next in the stream, is to be filled from its
    /// surroundings instead of restored, and where: `None` keeps the restoration; otherwise,
    /// per tile, whether it is filled (the tiles that fail on their own, with those too deep
    /// inside to be judged where nearly every tile judged fails; all of them when none fails).
    pub fn reject(&mut self, score: &Score) -> Option<Vec<bool>> {
        let moved =
            self.previous_ring.len() == score.ring_luma.len() && !score.ring_luma.is_empty() && {
                let change: u32 = (self.previous_ring.iter())
                    .zip(&score.ring_luma)
                    .map(|(a, b)| u32::from(a.abs_diff(*b)))
                    .sum();
                change as f32 / score.ring_luma.len() as f32 >= MOVED_LEVELS
            };
        self.previous_ring.clone_from(&score.ring_luma);
        let trusted = self.trusted;
        let all = self.all.update(&score.all, moved, trusted);
        self.tiles
            .resize_with(score.tiles.len(), Hysteresis::default);
        let tiles: Vec<bool> = (self.tiles.iter_mut())
            .zip(&score.tiles)
            .map(|(h, s)| h.update(s, moved, trusted))
            .collect();
        all.then(|| {
            if tiles.contains(&true) {
                let judged = |s: &PartScore| s.edge_pairs >= MIN_TILE_EDGES;
                let (mut seen, mut failed) = (0, 0);
                for (&f, s) in tiles.iter().zip(&score.tiles) {
                    if judged(s) {
                        seen += 1;
                        failed += usize::from(f);
                    }
                }
                let widespread = failed as f32 >= WIDESPREAD_FAILURE * seen as f32;
                (tiles.iter().zip(&score.tiles))
                    .map(|(&f, s)| f || (widespread && !judged(s)))
                    .collect()
            } else {
                vec![true; tiles.len()]
            }
        })
    }
}

impl Hysteresis {
    /// Takes the next frame's score of this part (`moved`: whether the background under the
    /// mark changed since the frame before); returns whether it is rejected.
    fn update(&mut self, score: &PartScore, moved: bool, trusted: bool) -> bool {
        let s = match self.smoothed {
            None => Smoothed {
                excess: score.excess(trusted),
                rest: score.rest,
                directed: score.directed,
                directed_error: score.directed_error,
                independent: 1,
            },
            Some(s) => Smoothed {
                excess: s.excess + SMOOTHING * (score.excess(trusted) - s.excess),
                rest: s.rest + SMOOTHING * (score.rest - s.rest),
                directed: s.directed + DIRECTED_SMOOTHING * (score.directed - s.directed),
                directed_error: s.directed_error
                    + DIRECTED_SMOOTHING * (score.directed_error - s.directed_error),
                independent: s.independent.saturating_add(u32::from(moved)),
            },
        };
        self.smoothed = Some(s);
        // A mean over frames that show the mark over new backgrounds has a smaller error than
        // one frame's, down to what the smoothing keeps of it. Frames of a still scene repeat
        // the same evidence: a background that happens to follow the mark's outline must not
        // add up to a verdict.
        // With the mark's own image, evidence must come from one frame: the image's shape is
        // exact, so a directed step that persists is the background's.
        let independent = if trusted { 1 } else { s.independent };
        let shrink = (1.0 / (independent as f32).sqrt())
            .max((DIRECTED_SMOOTHING / (2.0 - DIRECTED_SMOOTHING)).sqrt());
        // A ghost is filled only where it is both real (beyond its error) and large enough to
        // show on the texture around: the error shrinks with the outline's length, so
        // significance alone would fill a large mark's faint ghost on busy texture.
        let directed = s.directed.abs()
            / (DIRECTED_ERRORS * s.directed_error * shrink + DIRECTED_NOISE)
                .max(DIRECTED_MASKING * s.rest);
        let smoothed = s.excess.max(directed);
        self.rejecting = if self.rejecting {
            smoothed > ACCEPT_BELOW
        } else {
            smoothed > REJECT_ABOVE
        };
        self.rejecting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Rect;

    const W: usize = 96;
    const H: usize = 64;

    /// A textured frame (a hashed pattern with some smoothness) panned by `t` pixels, grey
    /// chroma.
    fn textured(t: usize) -> Yuv420Frame {
        let mut f = Yuv420Frame::new(W, H);
        for (i, v) in f.data_mut(0).iter_mut().enumerate() {
            let (x, y) = (i % W + 5 * t, i / W + 2 * t);
            *v = (60 + (x * 7 + y * 3) % 40 + ((x / 3 * 31 + y / 3 * 17) % 23) * 3) as u8;
        }
        for p in 1..3 {
            f.data_mut(p).fill(128);
        }
        f
    }

    /// A white disc at alpha 0.5 inside a 40x24 rectangle mask at (30, 20).
    fn setup() -> (Mask, LogoModel) {
        let (lw, lh) = (40, 24);
        let mut rgba = vec![0u8; lw * lh * 4];
        for y in 0..lh {
            for x in 0..lw {
                let d = ((x as f32 - 12.0).powi(2) + (y as f32 - 12.0).powi(2)).sqrt();
                if d < 9.0 {
                    rgba[(y * lw + x) * 4..][..4].copy_from_slice(&[255, 255, 255, 128]);
                }
            }
        }
        let logo = LogoModel::from_rgba(&rgba, lw, lh, 30, 20, W, H).expect("a logo");
        let mask = Mask::from_rect(Rect::new(30, 20, 40, 24), W, H).expect("a mask");
        (mask, logo)
    }

    #[test]
    fn a_ghost_of_the_mark_is_caught_and_texture_is_not() {
        let (mask, logo) = setup();
        let guard = Guard::new(&mask, Some(&logo), true, Anisotropy::ISOTROPIC);
        let right: Vec<Score> = (0..24).map(|t| guard.score(&textured(t))).collect();
        let mut verdicts = Verdicts::new(false);
        assert!(
            right.iter().all(|score| verdicts.reject(score).is_none()),
            "the background alone is rejected"
        );
        // What an un-blend with the opacity a fifth off leaves: a fifth of the mark.
        let ghost = |t: usize| {
            let mut ghost = textured(t);
            for (i, v) in ghost.data_mut(0).iter_mut().enumerate() {
                let a = logo.alpha(0, i % W, i / W);
                *v = (f32::from(*v) + 0.2 * a * (235.0 - f32::from(*v))).round() as u8;
            }
            guard.score(&ghost)
        };
        let wrong: Vec<Score> = (0..24).map(ghost).collect();
        let mut verdicts = Verdicts::new(false);
        let caught = wrong
            .iter()
            .position(|score| verdicts.reject(score).is_some());
        assert!(
            caught.is_some_and(|t| t < 12),
            "the ghost is caught at frame {caught:?}"
        );
        // Smoothed: one good frame after bad ones is not enough to switch back; a few are.
        assert!(verdicts.reject(&right[0]).is_some());
        let back = right[1..]
            .iter()
            .position(|score| verdicts.reject(score).is_none());
        assert!(back.is_some(), "never accepted again");
        // The same ghost over a background that never moves is not evidence that adds up: a
        // still background may follow the mark's outline by chance.
        let mut verdicts = Verdicts::new(false);
        let still = (0..24)
            .filter(|_| verdicts.reject(&wrong[0]).is_some())
            .count();
        eprintln!("ghost over a still background: {still} of 24 frames rejected");
    }

    #[test]
    fn a_smooth_inside_beside_busy_texture_is_no_seam() {
        // The mark over a smooth part of the picture, restored exactly, with busy texture all
        // around it: the mask's outline steps from texture to smooth, as the picture does.
        let mask = Mask::from_rect(Rect::new(30, 20, 40, 24), W, H).expect("a mask");
        let guard = Guard::new(&mask, None, false, Anisotropy::ISOTROPIC);
        let mut frame = textured(0);
        for (i, v) in frame.data_mut(0).iter_mut().enumerate() {
            let (x, y) = (i % W, i / W);
            if (30..70).contains(&x) && (20..44).contains(&y) {
                *v = (90 + x / 8) as u8;
            }
        }
        let score = guard.score(&frame);
        assert!(score.excess(false) < 1.0, "{score:?}");
        // A seam along the outline of the same frame is caught.
        for (i, v) in frame.data_mut(0).iter_mut().enumerate() {
            let (x, y) = (i % W, i / W);
            if [30, 69].contains(&x) && (20..44).contains(&y)
                || [20, 43].contains(&y) && (30..70).contains(&x)
            {
                *v = 250;
            }
        }
        let score = guard.score(&frame);
        assert!(score.excess(false) > 1.0, "{score:?}");
    }

    /// A smooth luma ramp (`40 + x + y`), with the pixels where `spoilt` holds set to 250.
    fn ramp_spoilt_where(spoilt: impl Fn(usize, usize) -> bool) -> Yuv420Frame {
        let mut frame = Yuv420Frame::new(W, H);
        for (i, v) in frame.data_mut(0).iter_mut().enumerate() {
            let (x, y) = (i % W, i / W);
            *v = if spoilt(x, y) {
                250
            } else {
                (40 + x + y) as u8
            };
        }
        frame
    }

    #[test]
    fn the_fallback_fills_what_the_mark_covers_and_keeps_the_rest() {
        let (mask, logo) = setup();
        let guard = Guard::new(&mask, Some(&logo), true, Anisotropy::ISOTROPIC);
        let before = ramp_spoilt_where(|_, _| false);
        let mut frame = ramp_spoilt_where(|x, y| logo.alpha(0, x, y) > 0.0);
        guard.fill(&mut frame, None, false, &guard.every_tile());
        for (i, (&got, &want)) in frame.data(0).iter().zip(before.data(0)).enumerate() {
            assert!(
                got.abs_diff(want) <= 1,
                "({}, {}): {got}, the ramp has {want}",
                i % W,
                i / W
            );
        }
        // Pixels of the mask the mark does not cover are kept exactly.
        let corner = 21 * W + 67;
        assert!(mask.contains(67, 21) && logo.alpha(0, 67, 21) == 0.0);
        frame.data_mut(0)[corner] = 7;
        guard.fill(&mut frame, None, false, &guard.every_tile());
        assert_eq!(frame.data(0)[corner], 7);
    }

    #[test]
    fn an_estimates_fallback_also_fills_what_the_mark_encloses() {
        // A ring: its inside is unmarked, which an estimate may get wrong where nothing moved
        // under the mark (a disc taken for a ring), so only the mark's own image keeps it.
        let (lw, lh) = (40, 24);
        let mut rgba = vec![0u8; lw * lh * 4];
        for y in 0..lh {
            for x in 0..lw {
                let d = ((x as f32 - 12.0).powi(2) + (y as f32 - 12.0).powi(2)).sqrt();
                if (5.0..9.0).contains(&d) {
                    rgba[(y * lw + x) * 4..][..4].copy_from_slice(&[255, 255, 255, 200]);
                }
            }
        }
        let logo = LogoModel::from_rgba(&rgba, lw, lh, 30, 20, W, H).expect("a logo");
        let mask = Mask::from_rect(Rect::new(30, 20, 40, 24), W, H).expect("a mask");
        let centre = 32 * W + 42;
        assert!(logo.alpha(0, 42, 32) == 0.0);
        let before = ramp_spoilt_where(|_, _| false);
        // The ring and its inside spoilt (the mark is a disc).
        let disc = |x: usize, y: usize| (x as f32 - 42.0).hypot(y as f32 - 32.0) < 9.0;
        for (trusted, centre_kept) in [(true, true), (false, false)] {
            let guard = Guard::new(&mask, Some(&logo), trusted, Anisotropy::ISOTROPIC);
            let mut frame = ramp_spoilt_where(disc);
            guard.fill(&mut frame, None, false, &guard.every_tile());
            let got = frame.data(0);
            assert_eq!(
                got[centre] == 250,
                centre_kept,
                "trusted {trusted}: {}",
                got[centre]
            );
            for (i, (&got, &want)) in got.iter().zip(before.data(0)).enumerate() {
                let (x, y) = (i % W, i / W);
                // Clear of the ring, unmarked pixels are background either way; with the
                // inside filled too, the whole ramp comes back.
                let clear = (x as f32 - 42.0).hypot(y as f32 - 32.0) >= 11.0;
                if clear || !centre_kept {
                    assert!(
                        got.abs_diff(want) <= 1,
                        "trusted {trusted}, ({x}, {y}): {got}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_estimates_fallback_on_a_still_camera_fills_the_whole_mask() {
        // Nothing moved under the mark: the estimate's unmarked pixels are not trusted.
        let (mask, logo) = setup();
        let before = ramp_spoilt_where(|_, _| false);
        let corner = 21 * W + 67;
        assert!(mask.contains(67, 21) && logo.alpha(0, 67, 21) == 0.0);
        for (trusted, still, kept) in [
            (false, true, false),
            (false, false, true),
            (true, true, true),
        ] {
            let guard = Guard::new(&mask, Some(&logo), trusted, Anisotropy::ISOTROPIC);
            let mut frame = ramp_spoilt_where(|x, y| mask.contains(x, y));
            let fallback = guard
                .fill(&mut frame, None, still, &guard.every_tile())
                .expect("the fallback of every tile");
            assert_eq!(fallback.whole, !kept);
            let got = frame.data(0)[corner];
            assert_eq!(got == 250, kept, "trusted {trusted}, still {still}: {got}");
            if !kept {
                for (i, (&got, &want)) in frame.data(0).iter().zip(before.data(0)).enumerate() {
                    assert!(got.abs_diff(want) <= 1, "({}, {}): {got}", i % W, i / W);
                }
            }
        }
    }

    #[test]
    fn a_model_that_misses_the_mark_falls_back_to_filling_the_whole_mask() {
        let (lw, lh) = (40, 24);
        // An estimate that found next to nothing: a faint speck in a mask drawn around a mark.
        let mut rgba = vec![0u8; lw * lh * 4];
        rgba[(12 * lw + 12) * 4..][..4].copy_from_slice(&[255, 255, 255, 40]);
        let logo = LogoModel::from_rgba(&rgba, lw, lh, 30, 20, W, H).expect("a logo");
        let mask = Mask::from_rect(Rect::new(30, 20, 40, 24), W, H).expect("a mask");
        let guard = Guard::new(&mask, Some(&logo), true, Anisotropy::ISOTROPIC);
        let mut frame = ramp_spoilt_where(|x, y| mask.contains(x, y));
        guard.fill(&mut frame, None, false, &guard.every_tile());
        for y in 20..44 {
            for x in 30..70 {
                let got = frame.data(0)[y * W + x];
                assert!(got.abs_diff((40 + x + y) as u8) <= 1, "({x}, {y}): {got}");
            }
        }
    }

    #[test]
    fn a_fallback_on_a_still_camera_starts_from_the_one_before() {
        let (mask, logo) = setup();
        let guard = Guard::new(&mask, Some(&logo), true, Anisotropy::ISOTROPIC);
        let spoilt = ramp_spoilt_where(|x, y| logo.alpha(0, x, y) > 0.0);
        let mut fresh = spoilt.clone();
        let first = guard
            .fill(&mut fresh, None, false, &guard.every_tile())
            .expect("the fallback of every tile");
        // The same surroundings: starting from the solution, it stays there.
        let mut warm = spoilt.clone();
        guard.fill(&mut warm, Some(&first), false, &guard.every_tile());
        for (i, (&got, &want)) in warm.data(0).iter().zip(fresh.data(0)).enumerate() {
            assert!(got.abs_diff(want) <= 1, "pixel {i}: {got}, fresh {want}");
        }
        // It moves at most a quarter of the way from where it starts: from black, at most a
        // quarter of the ramp's level (less inside, where a few sweeps reach less).
        let black = Fallback {
            values: first.values.clone().map(|p| vec![0.0; p.len()]),
            whole: first.whole,
        };
        let mut from_black = spoilt.clone();
        guard.fill(&mut from_black, Some(&black), false, &guard.every_tile());
        let (mut moved, mut n) = (0.0, 0.0);
        for (i, (&got, &want)) in from_black.data(0).iter().zip(fresh.data(0)).enumerate() {
            if spoilt.data(0)[i] == 250 {
                moved += f32::from(got) / f32::from(want);
                n += 1.0;
            }
        }
        let moved = moved / n;
        assert!((0.02..=0.25).contains(&moved), "moved {moved} of the way");
    }

    #[test]
    fn a_seam_in_one_tile_is_filled_there_alone() {
        // A mask three tiles wide over texture, restored exactly but for a seam along the
        // outline of its last tile.
        let (w, h) = (200, 64);
        let mask = Mask::from_rect(Rect::new(20, 20, 3 * TILE as u64, 24), w, h).expect("a mask");
        let guard = Guard::new(&mask, None, false, Anisotropy::ISOTROPIC);
        assert_eq!(guard.tiles.len(), 3);
        let frame = |t: usize| {
            let mut f = Yuv420Frame::new(w, h);
            for (i, v) in f.data_mut(0).iter_mut().enumerate() {
                let (x, y) = (i % w + 5 * t, i / w + 2 * t);
                *v = (60 + (x * 7 + y * 3) % 40 + ((x / 3 * 31 + y / 3 * 17) % 23) * 3) as u8;
                let (x, y) = (i % w, i / w);
                let last = 20 + 2 * TILE..20 + 3 * TILE;
                if last.contains(&x) && [20, 43].contains(&y) {
                    *v = 250;
                }
            }
            f
        };
        let mut verdicts = Verdicts::new(false);
        let tiles = (0..8)
            .filter_map(|t| verdicts.reject(&guard.score(&frame(t))))
            .last()
            .expect("the seam is caught");
        assert_eq!(tiles, [false, false, true]);
        let before = frame(8);
        let mut filled = before.clone();
        assert!(guard.fill(&mut filled, None, false, &tiles).is_none());
        for y in 20..44 {
            for x in 20..20 + 3 * TILE {
                let (got, was) = (filled.data(0)[y * w + x], before.data(0)[y * w + x]);
                if x < 20 + 2 * TILE {
                    assert_eq!(got, was, "({x}, {y}) changed");
                } else {
                    assert!(got < 200, "({x}, {y}) kept the seam: {got}");
                }
            }
        }
    }

    #[test]
    fn a_rejected_frame_fills_the_tiles_too_deep_inside_to_judge() {
        // A mask three tiles square over texture: its middle tile has no edges of its own.
        // The restoration is off by a smooth ramp there (nothing its own check can see) and
        // leaves a seam along the top and bottom of the outline, in six of the eight tiles
        // around; then along the top and bottom of the right-hand corners alone.
        let (w, h) = (320, 200);
        let side = 3 * TILE;
        let mask =
            Mask::from_rect(Rect::new(20, 20, side as u64, side as u64), w, h).expect("a mask");
        let guard = Guard::new(&mask, None, false, Anisotropy::ISOTROPIC);
        assert_eq!(guard.tiles.len(), 9);
        let inside = |x: usize| (20 + TILE..20 + 2 * TILE).contains(&x);
        let frame = |t: usize, seam_from: usize| {
            let mut f = Yuv420Frame::new(w, h);
            for (i, v) in f.data_mut(0).iter_mut().enumerate() {
                let (x, y) = (i % w + 5 * t, i / w + 2 * t);
                let mut value = 60 + (x * 7 + y * 3) % 40 + ((x / 3 * 31 + y / 3 * 17) % 23) * 3;
                let (x, y) = (i % w, i / w);
                if inside(x) && inside(y) {
                    value += (x - 20 - TILE) / 4;
                }
                if x >= seam_from && x < 20 + side && [20, 20 + side - 1].contains(&y) {
                    value = 250;
                }
                *v = value as u8;
            }
            f
        };
        let verdict = |seam_from: usize| {
            let mut verdicts = Verdicts::new(false);
            (0..8)
                .filter_map(|t| verdicts.reject(&guard.score(&frame(t, seam_from))))
                .last()
                .expect("the seam is caught")
        };
        // Six of the eight tiles judged fail: the middle one goes with them.
        let (all, middle) = ([true; 3], [false, true, false]);
        assert_eq!(verdict(20), [all, middle, all].concat());
        // Two of eight: the rest passed their own checks, and the middle tile is kept.
        let (corner, middle) = ([false, false, true], [false; 3]);
        assert_eq!(verdict(20 + 2 * TILE), [corner, middle, corner].concat());
    }

    #[test]
    fn a_faint_ghost_on_busy_texture_is_kept_rather_than_filled() {
        // An eighth of the mark left over texture whose gradients are 16 levels: a fill would
        // lose far more of the texture than the ghost shows. A fifth of it is caught (above).
        let (mask, logo) = setup();
        let guard = Guard::new(&mask, Some(&logo), true, Anisotropy::ISOTROPIC);
        let ghost = |t: usize| {
            let mut ghost = textured(t);
            for (i, v) in ghost.data_mut(0).iter_mut().enumerate() {
                let a = logo.alpha(0, i % W, i / W);
                *v = (f32::from(*v) + 0.12 * a * (235.0 - f32::from(*v))).round() as u8;
            }
            guard.score(&ghost)
        };
        let mut verdicts = Verdicts::new(false);
        let rejected = (0..24)
            .filter(|&t| verdicts.reject(&ghost(t)).is_some())
            .count();
        assert_eq!(rejected, 0);
    }

    #[test]
    fn a_faint_ghost_is_kept_however_long_the_outline() {
        // Bars two pixels wide at alpha 0.5 across the mask: eight times the disc's outline, so
        // the mean step across it is known to a third of the disc's error. An eighth of the
        // mark left over busy texture is then certainly there, and still fainter than the
        // texture's own steps: kept. A fifth of it shows: filled.
        let (lw, lh) = (40, 24);
        let mut rgba = vec![0u8; lw * lh * 4];
        for y in 0..lh {
            for x in (0..lw).filter(|x| x % 4 < 2) {
                rgba[(y * lw + x) * 4..][..4].copy_from_slice(&[255, 255, 255, 128]);
            }
        }
        let logo = LogoModel::from_rgba(&rgba, lw, lh, 30, 20, W, H).expect("a logo");
        let mask = Mask::from_rect(Rect::new(30, 20, 40, 24), W, H).expect("a mask");
        let guard = Guard::new(&mask, Some(&logo), true, Anisotropy::ISOTROPIC);
        let rejected = |left: f32| {
            let mut verdicts = Verdicts::new(false);
            (0..24)
                .filter(|&t| {
                    let mut ghost = textured(t);
                    for (i, v) in ghost.data_mut(0).iter_mut().enumerate() {
                        let a = logo.alpha(0, i % W, i / W);
                        *v = (f32::from(*v) + left * a * (235.0 - f32::from(*v))).round() as u8;
                    }
                    verdicts.reject(&guard.score(&ghost)).is_some()
                })
                .count()
        };
        assert_eq!(rejected(0.0), 0, "the background alone is rejected");
        assert_eq!(rejected(0.12), 0, "a faint ghost is filled");
        assert!(rejected(0.2) > 12, "a ghost that shows is kept");
    }
}
