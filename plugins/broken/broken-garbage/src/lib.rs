//! `broken-garbage`, a test fixture: an overlay that answers with draw ops the
//! host must reject as invalid output, one kind per frame:
//!
//! | frame | ops                                                         |
//! |-------|-------------------------------------------------------------|
//! | 0     | an asset at x = 1 000 000 000, far outside any frame         |
//! | 1     | 1 000 000 rect fills                                        |
//! | 2     | an asset with NaN opacity and a negative scale              |
//! | 3     | a sprite id that was never defined                          |
//! | 4     | a rect `u32::MAX` pixels wide                               |
//! | other | nothing                                                     |
//!
//! Its params are ignored.

use framejet_sdk::prelude::*;

const FAR_AWAY: i32 = 1_000_000_000;
const TOO_MANY_OPS: usize = 1_000_000;

/// Answers with invalid draw ops.
pub struct BrokenGarbage;

impl Overlay for BrokenGarbage {
    fn create(_info: &MediaInfo, _params: &str) -> Result<Self, PluginError> {
        Ok(BrokenGarbage)
    }

    fn frame(&mut self, index: u64, _pts_us: i64) -> Vec<DrawOp> {
        let asset = |x: i32, scale: f32, opacity: f32| {
            DrawOp::Asset(AssetPlacement {
                name: "logo".to_owned(),
                x,
                y: 0,
                scale,
                opacity,
            })
        };
        let red = Rgba::opaque(255, 0, 0);
        match index {
            0 => vec![asset(FAR_AWAY, 1.0, 1.0)],
            1 => vec![
                DrawOp::Rect(RectFill {
                    x: 0,
                    y: 0,
                    width: 1,
                    height: 1,
                    color: red
                });
                TOO_MANY_OPS
            ],
            2 => vec![asset(0, -1.0, f32::NAN)],
            3 => vec![DrawOp::Sprite(SpritePlacement {
                id: u32::MAX,
                x: 0,
                y: 0,
                opacity: 1.0,
            })],
            4 => vec![DrawOp::Rect(RectFill {
                x: 0,
                y: 0,
                width: u32::MAX,
                height: 1,
                color: red,
            })],
            _ => Vec::new(),
        }
    }
}

framejet_sdk::export_overlay!(BrokenGarbage);
