//! Pixel storage for frames: one buffer for all three planes, zero-initialised memory of the
//! process's own, or a copy-on-write mapping of a file.
//!
//! A video step holds dozens of frames at once (the inpainter's learning window), each of them
//! first touched as it is filled. At 1080p and up a frame's buffer is an anonymous mapping of its
//! own, rounded up to whole 2 MiB pages; on Linux the pages the frame fills are advised to be
//! backed by transparent huge pages and the partly used last one stays in small pages. Filling a
//! fresh 1080p frame costs about 250 page faults instead of 760, for no more memory than its
//! pixels. Smaller buffers, and any mapping the system refuses, are plain heap allocations.
//!
//! A frame mapped from a file (a yuv4mpeg file) costs neither a copy nor fresh memory: its
//! pages are the file's cached ones until written, and only those written are copied.

use std::ops::{Deref, DerefMut};

/// The size of a transparent huge page on the platforms that have them.
const HUGE_PAGE: usize = 2 << 20;
/// The size of a page, or less: the stride at which every page of a buffer is touched.
pub(crate) const PAGE: usize = 4096;

/// A frame's bytes: zero-initialised, on the heap or in a mapping of its own, or a stretch of a
/// file mapped copy-on-write.
pub(crate) enum PixelBuffer {
    Heap(Vec<u8>),
    #[cfg(target_os = "linux")]
    Mapped {
        map: memmap2::MmapMut,
        len: usize,
    },
    /// A stretch of a file mapped copy-on-write: pages are read from the file as they are
    /// first touched, and only those written are copied.
    FileCopy(memmap2::MmapMut),
}

impl PixelBuffer {
    /// A buffer of `len` zero bytes.
    pub(crate) fn zeroed(len: usize) -> Self {
        #[cfg(target_os = "linux")]
        if len >= HUGE_PAGE
            && let Some(buffer) = Self::mapped(len)
        {
            return buffer;
        }
        Self::Heap(vec![0; len])
    }

    /// A buffer of `len` zero bytes of which only a part will be written: in small pages, so
    /// that what is never written costs no memory and no zeroing (a huge page is zeroed whole
    /// when any byte of it is first written).
    pub(crate) fn zeroed_in_small_pages(len: usize) -> Self {
        #[cfg(target_os = "linux")]
        if len >= HUGE_PAGE
            && let Ok(map) = memmap2::MmapMut::map_anon(len)
        {
            // Only advice: where it fails, the kernel's default serves.
            let _ = map.advise(memmap2::Advice::NoHugePage);
            return Self::Mapped { map, len };
        }
        Self::Heap(vec![0; len])
    }

    /// A buffer of `len` zero bytes, every page of it faulted in now (by this thread) rather
    /// than on first use.
    pub(crate) fn zeroed_resident(len: usize) -> Self {
        let mut buffer = Self::zeroed(len);
        // A write to each page: a read would map the shared zero page and fault again on the
        // first write. Behind `black_box`, as zeros stored over known zeros could be dropped.
        let bytes: &mut [u8] = std::hint::black_box(&mut buffer);
        for at in (0..len).step_by(PAGE) {
            bytes[at] = 0;
        }
        buffer
    }

    /// The `len` bytes at `offset` in `file`, mapped copy-on-write.
    ///
    /// # Safety
    /// The file must stay as it is while the buffer lives: a page cut off by truncation raises
    /// `SIGBUS` when touched, and a change shows through the pages not yet written.
    pub(crate) unsafe fn map_file(
        file: &std::fs::File,
        offset: u64,
        len: usize,
    ) -> std::io::Result<Self> {
        // SAFETY: the caller keeps the file unchanged while the mapping lives.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(offset)
                .len(len)
                .map_copy(file)?
        };
        Ok(Self::FileCopy(map))
    }

    /// Says that the bytes in `range` are about to be written. A buffer mapped from a file
    /// copies their pages now, in one call: a page written after it was read faults again
    /// for its copy, and that fault flushes the page from every core's TLB.
    pub(crate) fn will_write(&mut self, range: std::ops::Range<usize>) {
        #[cfg(target_os = "linux")]
        if let Self::FileCopy(map) = self {
            // Only advice: where it fails, the pages are copied as they are written.
            let _ = map.advise_range(memmap2::Advice::PopulateWrite, range.start, range.len());
        }
        #[cfg(not(target_os = "linux"))]
        let _ = range;
    }

    /// Whether the buffer is memory of the process's own, worth filling again.
    pub(crate) fn is_owned(&self) -> bool {
        !matches!(self, Self::FileCopy(_))
    }

    /// A mapping whose length is whole huge pages (the kernel aligns such anonymous mappings to a
    /// huge page), its huge pages that `len` fills advised to be backed by them; `None` where
    /// mapping fails. The last, partly used page stays in small pages, of which only those
    /// touched get memory.
    #[cfg(target_os = "linux")]
    fn mapped(len: usize) -> Option<Self> {
        let map = memmap2::MmapMut::map_anon(len.next_multiple_of(HUGE_PAGE)).ok()?;
        // Only advice: where the kernel has no transparent huge pages, small pages serve.
        let _ = map.advise_range(memmap2::Advice::HugePage, 0, len / HUGE_PAGE * HUGE_PAGE);
        Some(Self::Mapped { map, len })
    }
}

impl Deref for PixelBuffer {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Heap(bytes) => bytes,
            #[cfg(target_os = "linux")]
            Self::Mapped { map, len } => &map[..*len],
            Self::FileCopy(map) => map,
        }
    }
}

impl DerefMut for PixelBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Self::Heap(bytes) => bytes,
            #[cfg(target_os = "linux")]
            Self::Mapped { map, len } => &mut map[..*len],
            Self::FileCopy(map) => map,
        }
    }
}

impl Clone for PixelBuffer {
    fn clone(&self) -> Self {
        let mut copy = Self::zeroed(self.len());
        copy.copy_from_slice(self);
        copy
    }
}

impl PartialEq for PixelBuffer {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for PixelBuffer {}

impl std::fmt::Debug for PixelBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PixelBuffer({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_start_zeroed_and_clone_apart() {
        let lens = [0, 1000, HUGE_PAGE, 1920 * 1080 * 3 / 2];
        let made = |len| {
            [
                PixelBuffer::zeroed(len),
                PixelBuffer::zeroed_in_small_pages(len),
            ]
        };
        for (len, mut a) in lens.into_iter().flat_map(|len| made(len).map(|a| (len, a))) {
            assert_eq!(a.len(), len);
            assert!(a.iter().all(|&b| b == 0));
            if len == 0 {
                continue;
            }
            a[len - 1] = 7;
            let mut b = a.clone();
            assert_eq!(a, b);
            b[0] = 1;
            assert_ne!(a, b);
            assert_eq!((a[0], a[len - 1]), (0, 7));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn frames_of_a_huge_page_and_up_are_mapped() {
        assert!(matches!(
            PixelBuffer::zeroed(HUGE_PAGE - 1),
            PixelBuffer::Heap(_)
        ));
        assert!(matches!(
            PixelBuffer::zeroed(1920 * 1080 * 3 / 2),
            PixelBuffer::Mapped { .. }
        ));
    }
}
