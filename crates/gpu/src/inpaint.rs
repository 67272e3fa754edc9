//! The inpaint step's kernels on the device: blend inversion, temporal fill and spatial fill,
//! twins of `framejet_inpaint::reference` (the scalar definitions its optimised CPU paths are
//! tested against). What the step decides per frame (which sources, in which order, with which
//! motion; which pixels are holes) stays on the host: these run the per-pixel work.

use std::sync::Mutex;

use framejet_inpaint::reference::{self, TemporalSource};
use framejet_inpaint::{Anisotropy, KernelDevice};

use crate::backend::{Args, Backend, Grid, Kernel, bytes_of, f32s_of};
use crate::error::GpuError;
use crate::frame::DevicePlane;

/// A mark's inversion for one plane: the box and, per pixel of it, kind (0 keep, 1 un-blend,
/// 2 hole), alpha and alpha × logo.
pub struct DeviceInversion<B: Backend> {
    bounds: [usize; 4],
    kind: B::Buffer,
    alpha: B::Buffer,
    premul: B::Buffer,
}

impl<B: Backend> DeviceInversion<B> {
    /// Uploads the box `[x0, y0, x1, y1)` and its row-major arrays.
    pub fn upload(
        b: &B,
        bounds: [usize; 4],
        kind: &[u8],
        alpha: &[f32],
        premul: &[f32],
    ) -> Result<Self, GpuError> {
        let [x0, y0, x1, y1] = bounds;
        let n = x1.saturating_sub(x0) * y1.saturating_sub(y0);
        if kind.len() != n || alpha.len() != n || premul.len() != n {
            return Err(GpuError::Invalid(format!(
                "an inversion box of {n} pixels with arrays of {}, {}, {}",
                kind.len(),
                alpha.len(),
                premul.len()
            )));
        }
        Ok(Self {
            bounds,
            kind: b.upload_new(kind)?,
            alpha: b.upload_new(bytes_of(alpha))?,
            premul: b.upload_new(bytes_of(premul))?,
        })
    }

    /// Un-blends the plane's marked pixels in place.
    pub fn apply(&self, b: &B, plane: &mut DevicePlane<B>) -> Result<(), GpuError> {
        let [x0, y0, x1, y1] = self.bounds;
        if x1 > plane.width || y1 > plane.height {
            return Err(GpuError::Invalid(
                "the inversion box leaves the plane".into(),
            ));
        }
        let (bw, bh) = (x1 - x0, y1 - y0);
        let args = Args::new()
            .ptr(b.addr(&plane.buf))
            .i32(plane.width as i32)
            .i32(x0 as i32)
            .i32(y0 as i32)
            .i32(bw as i32)
            .i32(bh as i32)
            .ptr(b.addr(&self.kind))
            .ptr(b.addr(&self.alpha))
            .ptr(b.addr(&self.premul));
        b.launch(Kernel::Invert, Grid::cover(bw, bh), args)
    }
}

/// The Catmull-Rom table the temporal fill reads with (65 phases x 4 taps).
pub struct DeviceTaps<B: Backend>(B::Buffer);

impl<B: Backend> DeviceTaps<B> {
    pub fn upload(b: &B) -> Result<Self, GpuError> {
        let taps = framejet_inpaint::reference::catmull_rom_taps();
        Ok(Self(b.upload_new(bytes_of(&taps))?))
    }
}

/// The hole pixels of a frame (plane coordinates) and which of them are filled (1) so far.
pub struct DeviceHoles<B: Backend> {
    coords: B::Buffer,
    filled: B::Buffer,
    n: usize,
}

impl<B: Backend> DeviceHoles<B> {
    pub fn upload(b: &B, holes: &[(u32, u32)], filled: &[bool]) -> Result<Self, GpuError> {
        if holes.len() != filled.len() {
            return Err(GpuError::Invalid(
                "holes and filled differ in length".into(),
            ));
        }
        let coords: Vec<u32> = holes.iter().flat_map(|&(x, y)| [x, y]).collect();
        let flags: Vec<u8> = filled.iter().map(|&f| u8::from(f)).collect();
        Ok(Self {
            coords: b.upload_new(bytes_of(&coords))?,
            filled: b.upload_new(&flags)?,
            n: holes.len(),
        })
    }

    /// Which holes are filled, in order.
    pub fn filled(&self, b: &B) -> Result<Vec<bool>, GpuError> {
        let mut flags = vec![0u8; self.n];
        b.download(&self.filled, &mut flags)?;
        Ok(flags.into_iter().map(|f| f != 0).collect())
    }
}

/// A frame that may show the holes' background: its plane cropped to `w` x `h` at
/// (`x0`, `y0`), with the crop's maps of what is not background (`exact`) and of the reads
/// that would touch it (`wide`), and where the target's background sits in it.
pub struct DeviceSource<'a, B: Backend> {
    pub plane: &'a B::Buffer,
    pub exact: &'a B::Buffer,
    pub wide: &'a B::Buffer,
    pub w: usize,
    pub h: usize,
    pub x0: usize,
    pub y0: usize,
    pub dx: f32,
    pub dy: f32,
    /// A zoom or rotation: `[a, b, cx, cy]` as `TemporalSource::linear` (zero for a
    /// translation).
    pub linear: [f32; 4],
}

impl<'a, B: Backend> DeviceSource<'a, B> {
    /// `source` with its plane and maps already on the device (`plane`, `exact`, `wide`: its
    /// `plane`, `blocked` and `wide` uploaded).
    pub fn of(
        source: &TemporalSource<'_>,
        (plane, exact, wide): (&'a B::Buffer, &'a B::Buffer, &'a B::Buffer),
    ) -> Self {
        Self {
            plane,
            exact,
            wide,
            w: source.w,
            h: source.h,
            x0: source.x0,
            y0: source.y0,
            dx: source.dx,
            dy: source.dy,
            linear: source.linear,
        }
    }
}

/// Fills the open holes of `target` from `sources`, nearest first: one launch per source,
/// each hole taking the first source whose read at its moved position is clear.
pub fn temporal_fill<B: Backend>(
    b: &B,
    target: &mut DevicePlane<B>,
    holes: &DeviceHoles<B>,
    sources: &[DeviceSource<'_, B>],
    taps: &DeviceTaps<B>,
) -> Result<(), GpuError> {
    temporal_fill_at(b, target, (0, 0), holes, sources, taps)
}

/// [`temporal_fill`] into `target` holding the plane from `origin` on (a crop around the
/// holes, which stay in plane coordinates).
pub fn temporal_fill_at<B: Backend>(
    b: &B,
    target: &mut DevicePlane<B>,
    origin: (usize, usize),
    holes: &DeviceHoles<B>,
    sources: &[DeviceSource<'_, B>],
    taps: &DeviceTaps<B>,
) -> Result<(), GpuError> {
    for s in sources {
        let args = Args::new()
            .ptr(b.addr(&target.buf))
            .i32(target.width as i32)
            .i32(origin.0 as i32)
            .i32(origin.1 as i32)
            .ptr(b.addr(&holes.coords))
            .i32(holes.n as i32)
            .ptr(b.addr(&holes.filled))
            .ptr(b.addr(s.plane))
            .i32(s.w as i32)
            .i32(s.h as i32)
            .i32(s.x0 as i32)
            .i32(s.y0 as i32)
            .f32(s.dx)
            .f32(s.dy)
            .f32(s.linear[0])
            .f32(s.linear[1])
            .f32(s.linear[2])
            .f32(s.linear[3])
            .ptr(b.addr(s.exact))
            .ptr(b.addr(s.wide))
            .ptr(b.addr(&taps.0));
        b.launch(Kernel::TemporalFill, Grid::line(holes.n), args)?;
    }
    Ok(())
}

/// One level of the spatial fill's pyramid: its size, which pixels are unknown, its values.
struct Level<B: Backend> {
    w: usize,
    h: usize,
    unknown: B::Buffer,
    /// Where the fill is not harmonic, the weights of each pixel's neighbours along its row
    /// and along its column.
    weights: Option<[B::Buffer; 2]>,
    /// The level's values (level 0's are the caller's).
    values: Option<B::Buffer>,
}

/// The spatial fill of one hole shape: the pyramid's levels (which pixels are unknown at each
/// depends only on the holes, so it is built on the host once) and their value buffers.
pub struct SpatialFill<B: Backend> {
    levels: Vec<Level<B>>,
    /// The coarsest level is a single pixel no fine pixel knows: it starts at mid-grey.
    grey_top: bool,
    sweeps: usize,
}

impl<B: Backend> SpatialFill<B> {
    /// Prepares the fill of the unknown pixels (`unknown[i] != 0`) of a `w` x `h` region, each
    /// weighing its neighbours as `shape` says.
    pub fn new(
        b: &B,
        unknown: &[u8],
        w: usize,
        h: usize,
        shape: Anisotropy,
    ) -> Result<Self, GpuError> {
        if unknown.len() != w * h || w == 0 || h == 0 {
            return Err(GpuError::Invalid(format!(
                "a {w}x{h} fill with {} flags",
                unknown.len()
            )));
        }
        let mut masks = vec![(
            w,
            h,
            unknown
                .iter()
                .map(|&u| u8::from(u != 0))
                .collect::<Vec<u8>>(),
        )];
        let mut grey_top = false;
        loop {
            let (lw, lh, last) = masks.last().expect("pyramid has a level");
            if !last.contains(&1) {
                break;
            }
            if (*lw, *lh) == (1, 1) {
                grey_top = true;
                break;
            }
            let (cw, ch) = (lw.div_ceil(2), lh.div_ceil(2));
            let mut coarse = vec![1u8; cw * ch];
            for y in 0..ch {
                for x in 0..cw {
                    let known = (2 * y..(2 * y + 2).min(*lh))
                        .any(|fy| (2 * x..(2 * x + 2).min(*lw)).any(|fx| last[fy * lw + fx] == 0));
                    coarse[y * cw + x] = u8::from(!known);
                }
            }
            masks.push((cw, ch, coarse));
        }
        let mut levels = Vec::with_capacity(masks.len());
        for (i, (lw, lh, mask)) in masks.iter().enumerate() {
            let weights = if shape.is_isotropic() {
                None
            } else {
                let [wx, wy] = reference::fill_weights(mask, *lw, *lh, shape);
                Some([b.upload_new(bytes_of(&wx))?, b.upload_new(bytes_of(&wy))?])
            };
            levels.push(Level {
                w: *lw,
                h: *lh,
                unknown: b.upload_new(mask)?,
                weights,
                values: if i == 0 {
                    None
                } else {
                    Some(b.alloc(lw * lh * 4)?)
                },
            });
        }
        Ok(Self {
            levels,
            grey_top,
            sweeps: framejet_inpaint::reference::SWEEPS,
        })
    }

    /// Fills `values` (the region's `w` x `h` floats on the device) in place.
    pub fn run(&mut self, b: &B, values: &mut B::Buffer) -> Result<(), GpuError> {
        let addr: Vec<u64> = self
            .levels
            .iter()
            .map(|l| {
                l.values
                    .as_ref()
                    .map_or_else(|| b.addr(values), |v| b.addr(v))
            })
            .collect();
        for l in 0..self.levels.len() - 1 {
            let (args, _, (cw, ch)) = self.between(b, &addr, l);
            b.launch(Kernel::FillPull, Grid::cover(cw, ch), args)?;
        }
        if self.grey_top {
            // The pulled value of a level no pixel knows is 0; it starts at mid-grey instead.
            let grey = bytes_of(&[128.0f32]);
            match self.levels.last_mut().and_then(|l| l.values.as_mut()) {
                Some(top) => b.upload(top, grey)?,
                None => b.upload(values, grey)?,
            }
        }
        for l in (0..self.levels.len() - 1).rev() {
            let (args, (fw, fh), _) = self.between(b, &addr, l);
            b.launch(Kernel::FillUpsample, Grid::cover(fw, fh), args)?;
            self.relax_level(b, l, addr[l], self.sweeps)?;
        }
        Ok(())
    }

    /// The arguments both passes between levels `l` and `l + 1` take (fine values, unknown
    /// and size, coarse values and size), with the two sizes.
    fn between(&self, b: &B, addr: &[u64], l: usize) -> (Args, (usize, usize), (usize, usize)) {
        let (f, c) = (&self.levels[l], &self.levels[l + 1]);
        let args = Args::new()
            .ptr(addr[l])
            .ptr(b.addr(&f.unknown))
            .i32(f.w as i32)
            .i32(f.h as i32)
            .ptr(addr[l + 1])
            .i32(c.w as i32)
            .i32(c.h as i32);
        (args, (f.w, f.h), (c.w, c.h))
    }

    /// `sweeps` red-black sweeps at full resolution only: the warm start from a previous fill.
    pub fn relax(&self, b: &B, values: &mut B::Buffer, sweeps: usize) -> Result<(), GpuError> {
        self.relax_level(b, 0, b.addr(values), sweeps)
    }

    fn relax_level(&self, b: &B, l: usize, values: u64, sweeps: usize) -> Result<(), GpuError> {
        let level = &self.levels[l];
        // The harmonic fill reads no weights: its pointers are the unknown flags'.
        let (wx, wy) = match &level.weights {
            Some([wx, wy]) => (b.addr(wx), b.addr(wy)),
            None => (b.addr(&level.unknown), b.addr(&level.unknown)),
        };
        for _ in 0..sweeps {
            for colour in 0..2 {
                let args = Args::new()
                    .ptr(values)
                    .ptr(b.addr(&level.unknown))
                    .i32(level.w as i32)
                    .i32(level.h as i32)
                    .i32(colour)
                    .i32(i32::from(level.weights.is_none()))
                    .ptr(wx)
                    .ptr(wy);
                b.launch(Kernel::FillRelax, Grid::cover(level.w, level.h), args)?;
            }
        }
        Ok(())
    }
}

/// The inpaint kernels as a [`KernelDevice`] for `framejet_inpaint`'s [`Inpainter`]
/// ([`Kernels::Device`]): each call copies the pixels it works on (the mark's box, the holes'
/// box, the sources' crops) to the backend, runs the kernels, and copies the result back.
/// Calls from several threads take turns on the one stream.
///
/// [`Inpainter`]: framejet_inpaint::Inpainter
/// [`Kernels::Device`]: framejet_inpaint::Kernels::Device
pub struct InpaintDevice<B: Backend> {
    name: String,
    state: Mutex<(B, Option<DeviceTaps<B>>)>,
}

impl<B: Backend> std::fmt::Debug for InpaintDevice<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InpaintDevice")
            .field("name", &self.name)
            .finish()
    }
}

impl<B: Backend> InpaintDevice<B> {
    /// The kernels on `backend`, called `name` in logs.
    pub fn new(backend: B, name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            state: Mutex::new((backend, None)),
        }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&B, &mut Option<DeviceTaps<B>>) -> Result<T, GpuError>,
    ) -> Result<T, String> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| "the GPU stream's lock is poisoned".to_string())?;
        let (backend, taps) = &mut *state;
        f(backend, taps).map_err(|e| e.to_string())
    }
}

/// Rows `y0..y1`, columns `x0..x1` of a plane `w` wide, packed.
fn cut(plane: &[u8], w: usize, [x0, y0, x1, y1]: [usize; 4]) -> Vec<u8> {
    (y0..y1)
        .flat_map(|y| plane[y * w + x0..y * w + x1].iter().copied())
        .collect()
}

/// Writes a packed box back into the plane.
fn paste(plane: &mut [u8], w: usize, [x0, y0, x1, _]: [usize; 4], packed: &[u8]) {
    let bw = x1 - x0;
    for (r, row) in packed.chunks(bw.max(1)).enumerate() {
        plane[(y0 + r) * w + x0..][..bw].copy_from_slice(row);
    }
}

impl<B> KernelDevice for InpaintDevice<B>
where
    B: Backend + Send,
{
    fn name(&self) -> String {
        self.name.clone()
    }

    fn invert(
        &self,
        plane: &mut [u8],
        w: usize,
        bounds: [usize; 4],
        kind: &[u8],
        alpha: &[f32],
        premul: &[f32],
    ) -> Result<(), String> {
        let [x0, y0, x1, y1] = bounds;
        if x1 <= x0 || y1 <= y0 {
            return Ok(());
        }
        let boxed = cut(plane, w, bounds);
        let out = self.with(|b, _| {
            let (bw, bh) = (x1 - x0, y1 - y0);
            let mut dev = DevicePlane::new(b, bw, bh)?;
            dev.upload(b, &boxed, bw)?;
            DeviceInversion::upload(b, [0, 0, bw, bh], kind, alpha, premul)?.apply(b, &mut dev)?;
            let mut out = vec![0; bw * bh];
            dev.download(b, &mut out, bw)?;
            Ok(out)
        })?;
        paste(plane, w, bounds, &out);
        Ok(())
    }

    fn temporal_fill(
        &self,
        target: &mut [u8],
        w: usize,
        holes: &[(u32, u32)],
        filled: &mut [bool],
        sources: &[TemporalSource<'_>],
    ) -> Result<(), String> {
        let Some(bounds) = holes_box(holes) else {
            return Ok(());
        };
        let boxed = cut(target, w, bounds);
        let (out, now_filled) = self.with(|b, taps| {
            let [x0, y0, x1, y1] = bounds;
            let (bw, bh) = (x1 - x0, y1 - y0);
            let mut dev = DevicePlane::new(b, bw, bh)?;
            dev.upload(b, &boxed, bw)?;
            let state = DeviceHoles::upload(b, holes, filled)?;
            if taps.is_none() {
                *taps = Some(DeviceTaps::upload(b)?);
            }
            let Some(taps) = taps.as_ref() else {
                return Err(GpuError::Invalid("no interpolation table".into()));
            };
            let mut buffers = Vec::with_capacity(sources.len());
            for s in sources {
                buffers.push((
                    b.upload_new(s.plane)?,
                    b.upload_new(s.blocked)?,
                    b.upload_new(s.wide)?,
                ));
            }
            let views: Vec<DeviceSource<'_, B>> = buffers
                .iter()
                .zip(sources)
                .map(|((plane, exact, wide), s)| DeviceSource::of(s, (plane, exact, wide)))
                .collect();
            temporal_fill_at(b, &mut dev, (x0, y0), &state, &views, taps)?;
            let mut out = vec![0; bw * bh];
            dev.download(b, &mut out, bw)?;
            Ok((out, state.filled(b)?))
        })?;
        paste(target, w, bounds, &out);
        filled.copy_from_slice(&now_filled);
        Ok(())
    }

    fn average_sums(
        &self,
        rect: [usize; 4],
        sparse: Option<&[u32]>,
        holes: bool,
        sources: &[TemporalSource<'_>],
        sum: &mut [f32],
        count: &mut [u16],
    ) -> Result<(), String> {
        let (sums, counts) =
            self.with(|b, taps| average_sums(b, taps, rect, sparse, holes, sources, sum, count))?;
        sum.copy_from_slice(&sums);
        count.copy_from_slice(&counts);
        Ok(())
    }

    fn spatial_fill(
        &self,
        values: &mut [f32],
        unknown: &[u8],
        w: usize,
        h: usize,
        shape: Anisotropy,
    ) -> Result<(), String> {
        self.fill_values(values, unknown, w, h, None, shape)
    }

    fn relax(
        &self,
        values: &mut [f32],
        unknown: &[u8],
        w: usize,
        h: usize,
        sweeps: usize,
        shape: Anisotropy,
    ) -> Result<(), String> {
        self.fill_values(values, unknown, w, h, Some(sweeps), shape)
    }
}

impl<B: Backend> InpaintDevice<B> {
    /// The spatial fill, or `sweeps` sweeps at full resolution only.
    fn fill_values(
        &self,
        values: &mut [f32],
        unknown: &[u8],
        w: usize,
        h: usize,
        sweeps: Option<usize>,
        shape: Anisotropy,
    ) -> Result<(), String> {
        let out = self.with(|b, _| {
            let mut buf = b.upload_new(bytes_of(values))?;
            let mut fill = SpatialFill::new(b, unknown, w, h, shape)?;
            match sweeps {
                Some(n) => fill.relax(b, &mut buf, n)?,
                None => fill.run(b, &mut buf)?,
            }
            let mut out = vec![0u8; values.len() * 4];
            b.download(&buf, &mut out)?;
            Ok(f32s_of(&out))
        })?;
        values.copy_from_slice(&out);
        Ok(())
    }
}

/// The averaging's sums on `b` (see [`KernelDevice::average_sums`]): one or two launches per
/// source, in order, into sums and counts kept on the device.
#[allow(clippy::too_many_arguments)]
fn average_sums<B: Backend>(
    b: &B,
    taps: &mut Option<DeviceTaps<B>>,
    rect: [usize; 4],
    sparse: Option<&[u32]>,
    holes: bool,
    sources: &[TemporalSource<'_>],
    sum: &[f32],
    count: &[u16],
) -> Result<(Vec<f32>, Vec<u16>), GpuError> {
    let [rx0, ry0, rx1, _] = rect;
    let rw = rx1 - rx0;
    let d_sum = b.upload_new(bytes_of(sum))?;
    let d_count = b.upload_new(bytes_of(count))?;
    let pixels = sparse.map(|p| b.upload_new(bytes_of(p))).transpose()?;
    // A zoom or a rotation moves no rectangle as a whole: every pixel is read on its own.
    let every: Option<(Vec<u32>, B::Buffer)> =
        if sparse.is_none() && sources.iter().any(|s| s.linear[..2] != [0.0, 0.0]) {
            let all: Vec<u32> = (0..sum.len() as u32).collect();
            let buffer = b.upload_new(bytes_of(&all))?;
            Some((all, buffer))
        } else {
            None
        };
    if taps.is_none() {
        *taps = Some(DeviceTaps::upload(b)?);
    }
    let Some(taps) = taps.as_ref() else {
        return Err(GpuError::Invalid("no interpolation table".into()));
    };
    for s in sources {
        let plane = b.upload_new(s.plane)?;
        let exact = b.upload_new(s.blocked)?;
        let wide = b.upload_new(s.wide)?;
        let sampled = match (&pixels, sparse, &every) {
            (Some(pixels), Some(list), _) => Some((pixels, list)),
            (None, _, Some((all, buffer))) if s.linear[..2] != [0.0, 0.0] => {
                Some((buffer, all.as_slice()))
            }
            _ => None,
        };
        if let Some((pixels, list)) = sampled {
            let args = Args::new()
                .ptr(b.addr(pixels))
                .i32(list.len() as i32)
                .i32(rx0 as i32)
                .i32(ry0 as i32)
                .i32(rw as i32)
                .ptr(b.addr(&d_sum))
                .ptr(b.addr(&d_count))
                .ptr(b.addr(&plane))
                .i32(s.w as i32)
                .i32(s.h as i32)
                .i32(s.x0 as i32)
                .i32(s.y0 as i32)
                .f32(s.dx)
                .f32(s.dy)
                .f32(s.linear[0])
                .f32(s.linear[1])
                .f32(s.linear[2])
                .f32(s.linear[3])
                .ptr(b.addr(&exact))
                .ptr(b.addr(&wide))
                .ptr(b.addr(&taps.0));
            b.launch(Kernel::AverageSampled, Grid::line(list.len()), args)?;
            continue;
        }
        let Some(shift) = framejet_inpaint::reference::shifted_box(rect, s) else {
            continue;
        };
        let (nx, ny) = (shift.nx, shift.ny);
        let rows = b.alloc((ny + 3) * nx * 4)?;
        let [w0, w1, w2, w3] = shift.wx;
        let args = Args::new()
            .ptr(b.addr(&plane))
            .i32(s.w as i32)
            .i32(shift.first_row as i32)
            .i32(shift.first_col as i32)
            .i32(nx as i32)
            .i32((ny + 3) as i32)
            .f32(w0)
            .f32(w1)
            .f32(w2)
            .f32(w3)
            .ptr(b.addr(&rows));
        b.launch(Kernel::AverageRows, Grid::cover(nx, ny + 3), args)?;
        let [w0, w1, w2, w3] = shift.wy;
        let args = Args::new()
            .ptr(b.addr(&rows))
            .i32(nx as i32)
            .i32(ny as i32)
            .f32(w0)
            .f32(w1)
            .f32(w2)
            .f32(w3)
            .i32(shift.x0 as i32)
            .i32(shift.y0 as i32)
            .i32(rx0 as i32)
            .i32(ry0 as i32)
            .i32(rw as i32)
            .ptr(b.addr(&d_sum))
            .ptr(b.addr(&d_count))
            .i32(i32::from(holes))
            .ptr(b.addr(&exact))
            .ptr(b.addr(&wide))
            .i32(s.w as i32)
            .i32(s.h as i32)
            .i32(s.x0 as i32)
            .i32(s.y0 as i32)
            .f32(s.dx)
            .f32(s.dy);
        b.launch(Kernel::AverageColumns, Grid::cover(nx, ny), args)?;
    }
    let mut sums = vec![0u8; sum.len() * 4];
    b.download(&d_sum, &mut sums)?;
    let mut counts = vec![0u8; count.len() * 2];
    b.download(&d_count, &mut counts)?;
    Ok((
        f32s_of(&sums),
        counts
            .chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]))
            .collect(),
    ))
}

/// The box `[x0, y0, x1, y1)` around the holes.
fn holes_box(holes: &[(u32, u32)]) -> Option<[usize; 4]> {
    let (x0, x1) = holes
        .iter()
        .map(|h| h.0 as usize)
        .fold((usize::MAX, 0), |(lo, hi), x| (lo.min(x), hi.max(x + 1)));
    let (y0, y1) = holes
        .iter()
        .map(|h| h.1 as usize)
        .fold((usize::MAX, 0), |(lo, hi), y| (lo.min(y), hi.max(y + 1)));
    (!holes.is_empty()).then_some([x0, y0, x1, y1])
}
