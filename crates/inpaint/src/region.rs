//! The working region: the part of each plane around the mask where all the work happens (the
//! mask's bounds grown by the motion search's reach). Frames are cropped to it once on arrival,
//! so that frames kept as sources of background cost memory in proportion to the mark, not the
//! picture.

use crate::mask::{Bounds, Mask};
use crate::plane::Yuv420Frame;

/// The working region of each plane (luma, then the two chroma planes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region {
    planes: [Bounds; 3],
}

/// The three planes of a frame, cropped to a [`Region`].
#[derive(Default)]
pub(crate) struct Crop {
    pub planes: [Vec<u8>; 3],
}

impl Region {
    /// The mask's bounds grown by `margin` luma pixels, clipped to the frame.
    pub fn new(mask: &Mask, margin: usize) -> Self {
        let luma = mask.bounds().grown(margin, mask.width(), mask.height());
        let (cw, ch) = mask.plane_size(1);
        let chroma = luma.halved(cw, ch);
        Self {
            planes: [luma, chroma, chroma],
        }
    }

    /// The region on plane `p`, in plane coordinates.
    pub fn bounds(&self, p: usize) -> Bounds {
        self.planes[p]
    }

    /// Width and height of the region on plane `p`.
    pub fn size(&self, p: usize) -> (usize, usize) {
        (self.planes[p].width(), self.planes[p].height())
    }

    /// Copies the region out of `plane` (`plane_w` wide).
    pub fn crop_plane<T: Copy>(&self, p: usize, plane: &[T], plane_w: usize) -> Vec<T> {
        let b = self.planes[p];
        let mut out = Vec::with_capacity(b.width() * b.height());
        for y in b.y0..b.y1 {
            out.extend_from_slice(&plane[y * plane_w + b.x0..y * plane_w + b.x1]);
        }
        out
    }

    /// Copies the region out of each plane of `frame`.
    pub fn crop(&self, frame: &Yuv420Frame) -> Crop {
        let mut crop = Crop::default();
        self.crop_into(frame, &mut crop);
        crop
    }

    /// Copies the region out of each plane of `frame` into `crop`, whose buffers are reused:
    /// memory already touched, where a new crop's would be fresh.
    pub fn crop_into(&self, frame: &Yuv420Frame, crop: &mut Crop) {
        for (p, out) in crop.planes.iter_mut().enumerate() {
            let (b, plane_w) = (self.planes[p], frame.plane_size(p).0);
            let plane = frame.data(p);
            out.clear();
            out.reserve(b.width() * b.height());
            for y in b.y0..b.y1 {
                out.extend_from_slice(&plane[y * plane_w + b.x0..y * plane_w + b.x1]);
            }
        }
    }
}
