//! [`FramePool`]: the frames a stream is read into, recycled, with fresh ones made ready on a
//! thread of their own.
//!
//! An [`Inpainter`](crate::Inpainter) that learns the mark holds its learning frames until the
//! mark is known: 48 frames, 150 MB at 1080p, every byte of it memory the process has never
//! touched. The first write to each page of it faults, and the kernel clears the page before
//! handing it over, which costs more than the copy that fills the frame (about 1.5 ms a 1080p
//! frame on the 2-core virtual machine of the yardstick). The pool's thread takes
//! those faults on another core while the stream is read, a few frames ahead; frames the stream
//! has finished with come back and are used first, so once the held frames are out no fresh
//! memory is needed.

use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Mutex, PoisonError};

use crate::mask::Rect;
use crate::plane::Yuv420Frame;

/// Fresh frames the pool's thread keeps ready.
const AHEAD: usize = 2;

/// Frames of one size for a stream: [`FramePool::take`] one to read into (its contents are
/// whatever was there), [`FramePool::give_back`] it once written. Shared between a reading and
/// a writing thread by reference.
pub struct FramePool {
    width: usize,
    height: usize,
    /// The part of each frame that is filled, where not all of it.
    within: Option<Rect>,
    returned: Mutex<Vec<Yuv420Frame>>,
    /// Fresh frames, every page (of the part within `within`) faulted in; disconnected if the
    /// thread could not start.
    fresh: Mutex<Receiver<Yuv420Frame>>,
}

impl FramePool {
    /// A pool of `width`x`height` frames, whose thread starts making fresh frames ready at
    /// once. The thread ends with the pool.
    pub fn new(width: usize, height: usize) -> Self {
        Self::start(width, height, None)
    }

    /// A pool of `width`x`height` frames of which only the part within `rect` is filled
    /// ([`Yuv420Frame::copy_from_within`], for an inpainter that reads its
    /// [`reach`](crate::InpaintConfig::reach) alone): fresh frames are in small pages, with only
    /// that part's faulted in.
    pub fn within(width: usize, height: usize, rect: Rect) -> Self {
        Self::start(width, height, Some(rect))
    }

    fn start(width: usize, height: usize, within: Option<Rect>) -> Self {
        let (ready, fresh) = sync_channel(AHEAD);
        // Without the thread, `take` faults fresh frames in itself: slower, still correct.
        let _ = std::thread::Builder::new()
            .name("framejet-frames".into())
            .spawn(move || {
                loop {
                    let frame = match within {
                        Some(rect) => Yuv420Frame::zeroed_resident_within(width, height, rect),
                        None => Yuv420Frame::zeroed_resident(width, height),
                    };
                    if ready.send(frame).is_err() {
                        return;
                    }
                }
            });
        Self {
            width,
            height,
            within,
            returned: Mutex::new(Vec::new()),
            fresh: Mutex::new(fresh),
        }
    }

    /// A frame to fill: one given back if there is one, else a fresh one.
    pub fn take(&self) -> Yuv420Frame {
        let returned = self
            .returned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        returned
            .or_else(|| {
                let fresh = self.fresh.lock().unwrap_or_else(PoisonError::into_inner);
                fresh.try_recv().ok()
            })
            .unwrap_or_else(|| match self.within {
                Some(_) => Yuv420Frame::zeroed_within(self.width, self.height),
                None => Yuv420Frame::zeroed(self.width, self.height),
            })
    }

    /// Gives a frame back for [`FramePool::take`] to hand out again. Frames of another size,
    /// and frames mapped from a file, are dropped.
    pub fn give_back(&self, frame: Yuv420Frame) {
        if (frame.width(), frame.height()) == (self.width, self.height) && frame.is_owned() {
            self.returned
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_given_back_are_taken_again_and_others_are_fresh() {
        let pool = FramePool::new(64, 36);
        let mut first = pool.take();
        assert_eq!((first.width(), first.height()), (64, 36));
        first.data_mut(0)[0] = 7;
        pool.give_back(first);
        // A frame of another size is not kept.
        pool.give_back(Yuv420Frame::zeroed(32, 18));
        assert_eq!(pool.take().data(0)[0], 7);
        let fresh = pool.take();
        assert_eq!((fresh.width(), fresh.height()), (64, 36));
        assert!((0..3).all(|p| fresh.data(p).iter().all(|&b| b == 0)));
        // A frame mapped from a file is not memory of the pool's: it is not kept either.
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &[9; 64 * 36 * 3 / 2]).unwrap();
        // SAFETY: the file is this test's own and is not changed while mapped.
        let mapped = unsafe { Yuv420Frame::map_file(&file, 0, 64, 36) }.unwrap();
        assert_eq!(mapped.data(0)[0], 9);
        pool.give_back(mapped);
        assert_eq!(pool.take().data(0)[0], 0);
    }
}
