//! The assets of one input (logos, fonts), served to its plugins by name.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::plugin::AssetSource;

use super::spec::InputSpec;

/// Files an input's spec names under `assets`.
pub struct JobAssets {
    files: BTreeMap<String, PathBuf>,
}

impl JobAssets {
    /// The assets of one input, as a plugin asset source.
    pub fn for_input(input: &InputSpec) -> Arc<dyn AssetSource> {
        Arc::new(JobAssets {
            files: input.assets.clone(),
        })
    }

    fn path(&self, name: &str) -> Result<&PathBuf, String> {
        self.files.get(name).ok_or_else(|| {
            let known: Vec<&String> = self.files.keys().collect();
            missing_asset(name, &known)
        })
    }
}

/// What a plugin is told when it asks for an asset its input does not have.
pub(crate) fn missing_asset(name: &str, known: &[impl AsRef<str>]) -> String {
    if known.is_empty() {
        format!("no asset named `{name}`: this input has no assets")
    } else {
        let known: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
        format!(
            "no asset named `{name}`; this input has: {}",
            known.join(", ")
        )
    }
}

impl AssetSource for JobAssets {
    fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        let path = self.path(name)?;
        std::fs::read(path).map_err(|e| format!("asset `{name}` ({}): {e}", path.display()))
    }

    fn dimensions(&self, name: &str) -> Result<(u32, u32), String> {
        let path = self.path(name)?;
        image::image_dimensions(path).map_err(|e| {
            format!(
                "asset `{name}` ({}) is not a readable image: {e}",
                path.display()
            )
        })
    }
}
