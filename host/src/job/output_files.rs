//! The files a job writes on this machine, checked before any work: none of
//! them may be one of the job's own files (an input, an asset, a mask or a
//! logo, through links too), none may be another of them, and none may
//! replace an existing file unless the caller said so.

use std::path::{Path, PathBuf};

use super::spec::{InpaintStep, JobSpec, MaskSpec, NativeStep, StepSpec};
use super::{JobError, Plan};

/// A file a run is about to write, with what it is ("the output", "the job log").
#[derive(Debug, Clone)]
pub struct OutputFile {
    pub what: String,
    pub path: PathBuf,
}

impl OutputFile {
    pub fn new(what: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            what: what.into(),
            path: path.into(),
        }
    }
}

/// Why a file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputConflict {
    /// Writing it would destroy one of the job's own files.
    #[error(
        "{what} `{}` is the job's {field} `{}`: refusing to overwrite it; write the {what} elsewhere",
        path.display(), job_file.display()
    )]
    IsJobFile {
        what: String,
        path: PathBuf,
        /// The spec field that names the job's file (`inputs[0].src`).
        field: String,
        job_file: PathBuf,
    },
    /// Two of the files the run writes are the same file.
    #[error("{what} `{}` is also {other}: give them different paths", path.display())]
    Twice {
        what: String,
        path: PathBuf,
        other: String,
    },
    /// It exists and replacing it was not asked for.
    #[error("{what} `{}` already exists; replace it with -y (--overwrite)", path.display())]
    Exists { what: String, path: PathBuf },
    /// Its directory is not there.
    #[error("{what} `{}`: the directory `{}` does not exist", path.display(), dir.display())]
    NoDirectory {
        what: String,
        path: PathBuf,
        dir: PathBuf,
    },
    /// It cannot be looked at.
    #[error("{what} `{}`: {source}", path.display())]
    Io {
        what: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The mask PNGs a local run writes beside `output` (inpaint steps with
/// `write_mask`, one per input): `out.mp4.mask.png` when there is one,
/// `out.mp4.mask-<step>-<input>.png` when there are several. In the order
/// of the plan's masks.
pub fn mask_files(spec: &JobSpec, output: &Path) -> Vec<(usize, usize, PathBuf)> {
    let steps: Vec<usize> = spec
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            matches!(
                s,
                StepSpec::Native(NativeStep::Inpaint(InpaintStep {
                    write_mask: true,
                    ..
                }))
            )
        })
        .map(|(i, _)| i)
        .collect();
    let several = steps.len() * spec.inputs.len() > 1;
    let mut files = Vec::new();
    for &step in &steps {
        for item in 0..spec.inputs.len() {
            let suffix = if several {
                format!(".mask-{step}-{item}.png")
            } else {
                ".mask.png".to_string()
            };
            let mut path = output.as_os_str().to_owned();
            path.push(suffix);
            files.push((step, item, PathBuf::from(path)));
        }
    }
    files
}

/// Writes the mask inpaint step `step` uses on input `item` of `plan` to
/// `path` as a PNG: the mask the plan carries when it was detected, else
/// the spec's; for a mark that moves, every place's in one.
pub fn write_mask(plan: &Plan, step: usize, item: usize, path: &Path) -> Result<(), JobError> {
    let field = || format!("steps[{step}].mask");
    let Some(StepSpec::Native(NativeStep::Inpaint(inpaint))) = plan.spec.steps.get(step) else {
        return Err(JobError::media(field(), "not an inpaint step"));
    };
    let plan_item = plan
        .items
        .get(item)
        .ok_or_else(|| JobError::media(field(), format!("the plan has no input {item}")))?;
    let (w, h) = super::plan::step_sizes(
        &plan.spec,
        (plan_item.width, plan_item.height),
        &plan.output,
    )[step];
    let places = super::inpaint::planned_places(plan, step, item, inpaint, w, h)
        .map_err(|e| JobError::media(field(), e))?;
    let mut places = places.into_iter().map(|p| p.mask);
    let first = places
        .next()
        .ok_or_else(|| JobError::media(field(), "the step has no mask"))?;
    let mask = places
        .try_fold(first, |all, mask| all.union(&mask))
        .map_err(|e| JobError::media(field(), e))?;
    mask.to_png(path)
        .map_err(|e| JobError::media(format!("steps[{step}].write_mask"), e))
}

/// What a local run of `spec` writes: `output` and the mask PNGs beside it
/// ([`mask_files`]).
pub fn run_outputs(spec: &JobSpec, output: &Path) -> Vec<OutputFile> {
    let masks = mask_files(spec, output)
        .into_iter()
        .map(|(step, _, path)| OutputFile::new(format!("the mask of steps[{step}]"), path));
    std::iter::once(OutputFile::new("output", output))
        .chain(masks)
        .collect()
}

/// The files of the job that it reads, with the spec field naming each.
fn job_files(spec: &JobSpec) -> Vec<(String, &Path)> {
    let mut files = Vec::new();
    for (i, input) in spec.inputs.iter().enumerate() {
        files.push((format!("inputs[{i}].src"), input.src.as_path()));
        for (name, path) in &input.assets {
            files.push((format!("inputs[{i}].assets.{name}"), path.as_path()));
        }
    }
    for (i, step) in spec.steps.iter().enumerate() {
        if let StepSpec::Native(NativeStep::Inpaint(InpaintStep { mask, logo, .. })) = step {
            match mask {
                MaskSpec::Png(path) => files.push((format!("steps[{i}].mask.png"), path.as_path())),
                MaskSpec::Places(places) => {
                    for (k, place) in places.iter().enumerate() {
                        if let Some(path) = &place.png {
                            files.push((format!("steps[{i}].mask[{k}].png"), path.as_path()));
                        }
                    }
                }
                MaskSpec::Rect(_) | MaskSpec::Auto => {}
            }
            if let Some(path) = logo {
                files.push((format!("steps[{i}].logo"), path.as_path()));
            }
        }
    }
    files
}

/// Checks every file in `writes` before any is created: none is one of the
/// job's files or the spec file it came from (compared as files, so links
/// count), none is written twice, each one's directory exists, and none
/// exists unless `overwrite`.
pub fn check_output_files(
    spec: &JobSpec,
    spec_file: Option<&Path>,
    writes: &[OutputFile],
    overwrite: bool,
) -> Result<(), OutputConflict> {
    let mut files = job_files(spec);
    if let Some(path) = spec_file {
        files.push(("spec file".to_string(), path));
    }
    let reads: Vec<(String, &Path, Option<FileId>)> = files
        .into_iter()
        .map(|(field, path)| {
            let id = FileId::of(path);
            (field, path, id)
        })
        .collect();
    for (n, write) in writes.iter().enumerate() {
        let path = &write.path;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(OutputConflict::NoDirectory {
                what: write.what.clone(),
                path: path.clone(),
                dir: dir.to_path_buf(),
            });
        }
        let place = normalized(path);
        if let Some(other) = writes[..n].iter().find(|o| normalized(&o.path) == place) {
            return Err(OutputConflict::Twice {
                what: write.what.clone(),
                path: path.clone(),
                other: other.what.clone(),
            });
        }
        // Compared by path too: a dangling link or a file not made yet.
        for (field, job_file, _) in &reads {
            if normalized(job_file) == place {
                return Err(is_job_file(write, field, job_file));
            }
        }
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A link to nothing is still a file of the user's.
                if std::fs::symlink_metadata(path).is_ok() && !overwrite {
                    return Err(OutputConflict::Exists {
                        what: write.what.clone(),
                        path: path.clone(),
                    });
                }
                continue;
            }
            Err(source) => {
                return Err(OutputConflict::Io {
                    what: write.what.clone(),
                    path: path.clone(),
                    source,
                });
            }
        };
        let id = FileId::from_metadata(&meta);
        if let Some((field, job_file, _)) = reads.iter().find(|(_, _, r)| *r == Some(id)) {
            return Err(is_job_file(write, field, job_file));
        }
        if meta.is_dir() {
            return Err(OutputConflict::Io {
                what: write.what.clone(),
                path: path.clone(),
                source: std::io::Error::other("it is a directory"),
            });
        }
        if !overwrite {
            return Err(OutputConflict::Exists {
                what: write.what.clone(),
                path: path.clone(),
            });
        }
    }
    Ok(())
}

fn is_job_file(write: &OutputFile, field: &str, job_file: &Path) -> OutputConflict {
    OutputConflict::IsJobFile {
        what: write.what.clone(),
        path: write.path.clone(),
        field: field.to_string(),
        job_file: job_file.to_path_buf(),
    }
}

/// A file's identity: the device and inode it lives on (what hard and
/// symbolic links share).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(path: &Path) -> Option<Self> {
        std::fs::metadata(path)
            .ok()
            .map(|m| Self::from_metadata(&m))
    }

    fn from_metadata(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// `path` made absolute, with its directory's links resolved where it
/// exists, so two spellings of one place compare equal.
fn normalized(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map_or_else(|_| absolute.clone(), |dir| dir.join(name)),
        _ => absolute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_reading(input: &Path, asset: &Path) -> JobSpec {
        let json = serde_json::json!({
            "inputs": [{"src": input, "assets": {"logo": asset}}],
            "steps": [{"native": "inpaint", "mask": {"rect": [0, 0, 8, 8]}, "write_mask": true}],
        });
        JobSpec::from_json(&json.to_string()).expect("spec")
    }

    #[test]
    fn refuses_the_input_itself_through_a_symlink_and_through_a_hard_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.mp4");
        let asset = dir.path().join("logo.png");
        std::fs::write(&input, b"video").expect("write");
        std::fs::write(&asset, b"png").expect("write");
        let spec = spec_reading(&input, &asset);
        let soft = dir.path().join("soft.mp4");
        let hard = dir.path().join("hard.mp4");
        std::os::unix::fs::symlink(&input, &soft).expect("symlink");
        std::fs::hard_link(&input, &hard).expect("hard link");
        let dotted = dir.path().join(".").join("in.mp4");
        for path in [&input, &soft, &hard, &dotted] {
            let err = check_output_files(&spec, None, &[OutputFile::new("output", path)], true)
                .expect_err("refused");
            assert!(
                matches!(&err, OutputConflict::IsJobFile { field, .. } if field == "inputs[0].src"),
                "{err}"
            );
        }
        let err = check_output_files(&spec, None, &[OutputFile::new("the job log", &asset)], true)
            .expect_err("refused");
        assert!(err.to_string().contains("inputs[0].assets.logo"), "{err}");
    }

    #[test]
    fn an_existing_file_needs_overwrite_and_two_writes_may_not_share_a_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.mp4");
        std::fs::write(&input, b"video").expect("write");
        let spec = spec_reading(&input, &input);
        let out = dir.path().join("out.mp4");
        std::fs::write(&out, b"old").expect("write");
        let writes = [OutputFile::new("output", &out)];
        let err = check_output_files(&spec, None, &writes, false).expect_err("exists");
        assert!(err.to_string().contains("-y"), "{err}");
        check_output_files(&spec, None, &writes, true).expect("overwrite asked for");
        let spec_file = dir.path().join("job.json");
        std::fs::write(&spec_file, b"{}").expect("write");
        let onto_spec = [OutputFile::new("output", &spec_file)];
        let err = check_output_files(&spec, Some(&spec_file), &onto_spec, true)
            .expect_err("the spec file is the job's own");
        assert!(err.to_string().contains("spec file"), "{err}");

        let fresh = dir.path().join("new.mp4");
        let twice = [
            OutputFile::new("output", &fresh),
            OutputFile::new("the job log", dir.path().join("sub/../new.mp4")),
        ];
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let err = check_output_files(&spec, None, &twice, true).expect_err("same file twice");
        assert!(matches!(err, OutputConflict::Twice { .. }), "{err}");
    }

    #[test]
    fn mask_files_are_named_as_the_plan_orders_them() {
        let dir = Path::new("/tmp");
        let spec = spec_reading(&dir.join("a.mp4"), &dir.join("b.png"));
        let out = Path::new("/o/out.mp4");
        assert_eq!(
            mask_files(&spec, out),
            vec![(0, 0, PathBuf::from("/o/out.mp4.mask.png"))]
        );
    }
}
