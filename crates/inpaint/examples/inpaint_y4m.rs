//! Removes a watermark from a yuv4mpeg (yuv420p) stream: reads y4m on stdin, writes y4m on
//! stdout. A stand-in for framejet's `inpaint` job step, used by the yardstick in
//! `bench/inpaint/`.
//!
//! A stdin that is a regular file (`< marked.y4m`) is mapped rather than read, frame by frame:
//! nothing is copied in, and only the pages around the mark are copied, when written. The file
//! must not change while it is read.
//!
//! ```text
//! ffmpeg -i marked.mkv -f yuv4mpegpipe - \
//!   | cargo run --release -p framejet-inpaint --example inpaint_y4m -- --mask mask.png > out.y4m
//! ```
//!
//! Flags (one mask source is required unless `--logo` is given):
//! - `--rect X,Y,W,H`: mask rectangle;
//! - `--mask PATH`: mask PNG (white or opaque = masked);
//! - `--auto N`: detect the mask on the first N frames (written with `--write-mask PATH`);
//! - `--logo PATH --logo-at X,Y`: the mark's image, for exact un-blending (also a mask);
//! - `--opaque`: fill every masked pixel instead of learning the mark;
//! - `--learn N`: frames the mark is learnt from (default 48);
//! - `--window N`: frames of look-ahead searched for background (default 8);
//! - `--average N`: frames either side un-blended pixels are averaged with (default 8; 0: off);
//! - `--memory N`: frames behind searched for background (default 48);
//! - `--grow N`: grow the mask by N pixels;
//! - `--reference`: run the scalar reference kernels.

#![allow(clippy::unwrap_used)]

use std::error::Error;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Instant;

use framejet_inpaint::{
    DetectOptions, FramePool, InpaintConfig, Inpainter, Kernels, LogoModel, MarkModel, Mask, Rect,
    Yuv420Frame, detect_mask,
};

/// Command-line options.
#[derive(Default)]
struct Options {
    rect: Option<Rect>,
    mask: Option<PathBuf>,
    auto: Option<usize>,
    write_mask: Option<PathBuf>,
    logo: Option<PathBuf>,
    logo_at: (i64, i64),
    opaque: bool,
    learn: Option<usize>,
    window: Option<usize>,
    average: Option<usize>,
    memory: Option<usize>,
    grow: usize,
    reference: bool,
}

fn numbers(s: &str, count: usize) -> Result<Vec<i64>, Box<dyn Error>> {
    let v = s
        .split(',')
        .map(|p| p.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()?;
    if v.len() != count {
        return Err(format!("expected {count} comma-separated numbers, got `{s}`").into());
    }
    Ok(v)
}

fn parse_args() -> Result<Options, Box<dyn Error>> {
    let mut o = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--rect" => {
                let v = numbers(&value()?, 4)?;
                o.rect = Some(Rect::new(
                    v[0],
                    v[1],
                    v[2].max(0) as u64,
                    v[3].max(0) as u64,
                ));
            }
            "--mask" => o.mask = Some(value()?.into()),
            "--auto" => o.auto = Some(value()?.parse()?),
            "--write-mask" => o.write_mask = Some(value()?.into()),
            "--logo" => o.logo = Some(value()?.into()),
            "--logo-at" => {
                let v = numbers(&value()?, 2)?;
                o.logo_at = (v[0], v[1]);
            }
            "--opaque" => o.opaque = true,
            "--learn" => o.learn = Some(value()?.parse()?),
            "--window" => o.window = Some(value()?.parse()?),
            "--average" => o.average = Some(value()?.parse()?),
            "--memory" => o.memory = Some(value()?.parse()?),
            "--grow" => o.grow = value()?.parse()?,
            "--reference" => o.reference = true,
            other => return Err(format!("unknown flag `{other}` (see the example's docs)").into()),
        }
    }
    Ok(o)
}

/// A yuv4mpeg stream header: the frame size and the whole line, written back unchanged.
struct Header {
    width: usize,
    height: usize,
    line: String,
    /// Bytes the line took in the stream, its newline included.
    len: usize,
}

fn read_header(input: &mut impl BufRead) -> Result<Header, Box<dyn Error>> {
    let mut line = String::new();
    let len = input.read_line(&mut line)?;
    let line = line.trim_end().to_string();
    let mut params = line.split(' ');
    if params.next() != Some("YUV4MPEG2") {
        return Err("stdin is not a yuv4mpeg stream".into());
    }
    let (mut width, mut height) = (0, 0);
    for p in params {
        match p.split_at_checked(1) {
            Some(("W", v)) => width = v.parse()?,
            Some(("H", v)) => height = v.parse()?,
            Some(("C", v)) if !v.starts_with("420") => {
                return Err(
                    format!("colourspace C{v} is not supported: convert to yuv420p").into(),
                );
            }
            _ => {}
        }
    }
    if width == 0 || height == 0 {
        return Err("the yuv4mpeg header has no frame size".into());
    }
    Ok(Header {
        width,
        height,
        line,
        len,
    })
}

fn check_frame_tag(tag: &[u8]) -> Result<(), String> {
    if tag.starts_with(b"FRAME") {
        Ok(())
    } else {
        Err(format!(
            "expected a FRAME marker, got `{}`",
            String::from_utf8_lossy(tag).trim_end()
        ))
    }
}

/// Where the frames come from.
enum Frames {
    /// A pipe: each frame is read into one from the pool.
    Stream {
        input: BufReader<std::io::Stdin>,
        pool: Arc<FramePool>,
    },
    /// A regular file: each frame is mapped from it, copy-on-write, at `at`.
    File {
        file: std::fs::File,
        at: u64,
        width: usize,
        height: usize,
    },
}

impl Frames {
    /// The next frame; `None` at the end of the stream.
    fn next(&mut self) -> Result<Option<Yuv420Frame>, String> {
        match self {
            Self::Stream { input, pool } => {
                let mut tag = Vec::new();
                if input
                    .read_until(b'\n', &mut tag)
                    .map_err(|e| e.to_string())?
                    == 0
                {
                    return Ok(None);
                }
                check_frame_tag(&tag)?;
                let mut frame = pool.take();
                for p in 0..3 {
                    input
                        .read_exact(frame.data_mut(p))
                        .map_err(|e| format!("a frame is cut short: {e}"))?;
                }
                Ok(Some(frame))
            }
            Self::File {
                file,
                at,
                width,
                height,
            } => {
                let mut tag = [0; 256];
                let n = file.read_at(&mut tag, *at).map_err(|e| e.to_string())?;
                if n == 0 {
                    return Ok(None);
                }
                let Some(end) = tag[..n].iter().position(|&b| b == b'\n') else {
                    return Err("a FRAME marker is cut short".into());
                };
                check_frame_tag(&tag[..end])?;
                let offset = *at + end as u64 + 1;
                // SAFETY: the input file is the caller's to keep unchanged while it is read,
                // as for any tool that maps its input.
                let frame = unsafe { Yuv420Frame::map_file(file, offset, *width, *height) }
                    .map_err(|e| format!("a frame is cut short: {e}"))?;
                *at = offset + frame.data(0).len() as u64 + 2 * frame.data(1).len() as u64;
                Ok(Some(frame))
            }
        }
    }
}

fn write_frame(out: &mut impl Write, frame: &Yuv420Frame) -> std::io::Result<()> {
    out.write_all(b"FRAME\n")?;
    for p in 0..3 {
        out.write_all(frame.data(p))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inpaint_y4m: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Frames between the reader, the inpainter and the writer.
const QUEUE: usize = 4;

/// Reads frames on a thread of its own, so that reading overlaps the inpainting (as decoding
/// does in a job). A read error ends the stream and is returned by the join handle.
fn spawn_reader(mut frames: Frames) -> (Receiver<Yuv420Frame>, JoinHandle<Result<(), String>>) {
    let (tx, rx) = sync_channel(QUEUE);
    let reader = std::thread::spawn(move || {
        while let Some(frame) = frames.next()? {
            if tx.send(frame).is_err() {
                break;
            }
        }
        Ok(())
    });
    (rx, reader)
}

/// Writes frames on a thread of its own (as encoding does in a job), giving each one back to
/// the `pool`, if any, once written.
fn spawn_writer(
    mut output: impl Write + Send + 'static,
    header_line: String,
    pool: Option<Arc<FramePool>>,
) -> (SyncSender<Yuv420Frame>, JoinHandle<std::io::Result<()>>) {
    let (tx, rx) = sync_channel::<Yuv420Frame>(QUEUE);
    let writer = std::thread::spawn(move || {
        output.write_all(header_line.as_bytes())?;
        output.write_all(b"\n")?;
        for frame in rx {
            write_frame(&mut output, &frame)?;
            if let Some(pool) = &pool {
                pool.give_back(frame);
            }
        }
        output.flush()
    });
    (tx, writer)
}

fn run() -> Result<(), Box<dyn Error>> {
    let options = parse_args()?;
    let started = Instant::now();
    let stdin = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    // Where the stream starts in a file: not always its beginning.
    let start = if stdin.metadata()?.file_type().is_file() {
        Some((&stdin).stream_position()?)
    } else {
        None
    };
    // Small buffers: planes are read and written straight from and to the frames (reads and
    // writes at least as large as the buffer bypass it), one copy each way.
    let mut input = BufReader::with_capacity(1 << 16, std::io::stdin());
    // Not through `Stdout`, whose line buffering scans every byte written for newlines.
    let output = BufWriter::with_capacity(
        1 << 16,
        std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?),
    );
    let header = read_header(&mut input)?;
    let (w, h) = (header.width, header.height);
    let (frames, pool) = if let Some(start) = start {
        // A file is mapped rather than read: no copy in, no fresh memory for the frames held,
        // and only the pages around the mark are copied, when written.
        let frames = Frames::File {
            file: stdin,
            at: start + header.len as u64,
            width: w,
            height: h,
        };
        (frames, None)
    } else {
        // Frames written are read into again; the fresh ones that the inpainter's learning
        // frames need are faulted in on another core.
        let pool = Arc::new(FramePool::new(w, h));
        let frames = Frames::Stream {
            input,
            pool: Arc::clone(&pool),
        };
        (frames, Some(pool))
    };
    let (frames, reader) = spawn_reader(frames);
    let mut frames = frames.into_iter();

    // Frames read ahead for detection.
    let mut held = Vec::new();
    let logo = match &options.logo {
        Some(path) => Some(LogoModel::from_png(
            path,
            options.logo_at.0,
            options.logo_at.1,
            w,
            h,
        )?),
        None => None,
    };
    let mut mask = if let Some(rect) = options.rect {
        Mask::from_rect(rect, w, h)?
    } else if let Some(path) = &options.mask {
        Mask::from_png(path, w, h)?
    } else if let Some(n) = options.auto {
        held.extend(frames.by_ref().take(n));
        detect_mask(held.iter().map(|f| f.plane(0)), &DetectOptions::default())?
    } else if let Some(logo) = &logo {
        logo.mask()?
    } else {
        return Err("give a mask: --rect X,Y,W,H, --mask PNG, --auto N or --logo PNG".into());
    };
    if options.grow > 0 {
        mask = mask.grown(options.grow)?;
    }
    if let Some(path) = &options.write_mask {
        mask.to_png(path)?;
    }

    let mut config = InpaintConfig::default();
    if let Some(frames) = options.average {
        config = config.average(frames);
    }
    if let Some(window) = options.window {
        config = config.window(window);
    }
    if let Some(memory) = options.memory {
        config = config.memory(memory);
    }
    config = config.mark(match (logo, options.opaque, options.learn) {
        (Some(logo), _, _) => MarkModel::Given(logo),
        (None, true, _) => MarkModel::Opaque,
        (None, false, learn) => MarkModel::Estimate {
            frames: learn.unwrap_or(48),
        },
    });
    if options.reference {
        config = config.kernels(Kernels::Reference);
    }
    let mut inpainter = Inpainter::new(config, mask)?;

    let (written, writer) = spawn_writer(output, header.line, pool.clone());
    let write = |frame| written.send(frame).map_err(|_| "the output closed");
    for frame in held.into_iter().chain(frames) {
        for done in inpainter.push(frame)? {
            write(done)?;
        }
    }
    for done in inpainter.finish()? {
        write(done)?;
    }
    drop(written);
    reader.join().map_err(|_| "the reader panicked")??;
    writer.join().map_err(|_| "the writer panicked")??;
    // The frames go with the process: unmapping them one by one first (hundreds of MB at
    // 1080p) would only delay the exit.
    std::mem::forget(pool);
    let stats = inpainter.stats();
    eprintln!(
        "inpaint_y4m: {} frames of {w}x{h} in {:.2} s; pixels un-blended {} (averaged with other frames {}), from other frames {}, filled spatially {}; scene cuts {}",
        stats.frames,
        started.elapsed().as_secs_f64(),
        stats.unblended,
        stats.averaged,
        stats.from_other_frames,
        stats.spatial,
        stats.scene_cuts
    );
    Ok(())
}
