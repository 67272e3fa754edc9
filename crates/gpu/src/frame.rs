//! Frames and planes in a backend's memory: yuv420p, each plane packed (pitch = width).

use crate::backend::Backend;
use crate::error::GpuError;

/// One 8-bit plane on the device, rows packed.
pub struct DevicePlane<B: Backend> {
    pub buf: B::Buffer,
    pub width: usize,
    pub height: usize,
}

impl<B: Backend> DevicePlane<B> {
    /// An uninitialised `width` x `height` plane.
    pub fn new(b: &B, width: usize, height: usize) -> Result<Self, GpuError> {
        Ok(Self {
            buf: b.alloc(width * height)?,
            width,
            height,
        })
    }

    /// Copies rows of `stride` bytes (the first `width` of each) to the device.
    pub fn upload(&mut self, b: &B, data: &[u8], stride: usize) -> Result<(), GpuError> {
        let (w, h) = (self.width, self.height);
        if stride < w || (h > 0 && data.len() < (h - 1) * stride + w) {
            return Err(GpuError::Invalid(format!(
                "a {w}x{h} plane from {} bytes at stride {stride}",
                data.len()
            )));
        }
        if stride == w {
            return b.upload(&mut self.buf, &data[..w * h]);
        }
        let packed: Vec<u8> = data
            .chunks(stride)
            .take(h)
            .flat_map(|r| &r[..w])
            .copied()
            .collect();
        b.upload(&mut self.buf, &packed)
    }

    /// Copies the plane into rows of `stride` bytes.
    pub fn download(&self, b: &B, data: &mut [u8], stride: usize) -> Result<(), GpuError> {
        let (w, h) = (self.width, self.height);
        if stride < w || (h > 0 && data.len() < (h - 1) * stride + w) {
            return Err(GpuError::Invalid(format!(
                "a {w}x{h} plane into {} bytes at stride {stride}",
                data.len()
            )));
        }
        if stride == w {
            return b.download(&self.buf, &mut data[..w * h]);
        }
        let mut packed = vec![0u8; w * h];
        b.download(&self.buf, &mut packed)?;
        for (row, src) in data.chunks_mut(stride).zip(packed.chunks(w.max(1))) {
            row[..w].copy_from_slice(src);
        }
        Ok(())
    }
}

/// A yuv420p frame on the device.
pub struct DeviceFrame<B: Backend> {
    pub planes: [DevicePlane<B>; 3],
}

impl<B: Backend> DeviceFrame<B> {
    /// An uninitialised `width` x `height` frame (chroma planes rounded up).
    pub fn new(b: &B, width: usize, height: usize) -> Result<Self, GpuError> {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        Ok(Self {
            planes: [
                DevicePlane::new(b, width, height)?,
                DevicePlane::new(b, cw, ch)?,
                DevicePlane::new(b, cw, ch)?,
            ],
        })
    }

    pub fn width(&self) -> usize {
        self.planes[0].width
    }

    pub fn height(&self) -> usize {
        self.planes[0].height
    }

    /// Uploads Y, U and V given with their strides.
    pub fn upload(
        &mut self,
        b: &B,
        planes: [&[u8]; 3],
        strides: [usize; 3],
    ) -> Result<(), GpuError> {
        for ((plane, data), stride) in self.planes.iter_mut().zip(planes).zip(strides) {
            plane.upload(b, data, stride)?;
        }
        Ok(())
    }

    /// Downloads Y, U and V into buffers with the given strides.
    pub fn download(
        &self,
        b: &B,
        planes: [&mut [u8]; 3],
        strides: [usize; 3],
    ) -> Result<(), GpuError> {
        for ((plane, data), stride) in self.planes.iter().zip(planes).zip(strides) {
            plane.download(b, data, stride)?;
        }
        Ok(())
    }
}
