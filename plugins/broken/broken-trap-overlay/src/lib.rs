//! `broken-trap-overlay`, a test fixture: an overlay that draws nothing on
//! frames 0 to 2 and traps (panics) on frame 3, after the host has already
//! drawn some frames. Its params are ignored.

use framejet_sdk::prelude::*;

/// The frame index at which the overlay traps.
const TRAP_AT_FRAME: u64 = 3;

/// Traps on frame 3.
pub struct BrokenTrapOverlay;

impl Overlay for BrokenTrapOverlay {
    fn create(_info: &MediaInfo, _params: &str) -> Result<Self, PluginError> {
        Ok(BrokenTrapOverlay)
    }

    fn frame(&mut self, index: u64, _pts_us: i64) -> Vec<DrawOp> {
        if index == TRAP_AT_FRAME {
            panic!("broken-trap-overlay: deliberate trap on frame {index}");
        }
        Vec::new()
    }
}

framejet_sdk::export_overlay!(BrokenTrapOverlay);
