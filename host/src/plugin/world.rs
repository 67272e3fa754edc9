//! Which framejet world a component implements, and whether its imports
//! stay inside the sandbox. Used when a plugin is loaded and by
//! `framejet plugin check`.

use std::fmt;

use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;

/// The four kinds of plugin, one per world of `wit/plugin.wit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    Router,
    Segmenter,
    Overlay,
    FrameFilter,
}

impl PluginKind {
    /// Every kind, in the order the contract lists them.
    pub const ALL: [PluginKind; 4] = [
        PluginKind::Router,
        PluginKind::Segmenter,
        PluginKind::Overlay,
        PluginKind::FrameFilter,
    ];

    /// The world's name in `wit/plugin.wit`.
    pub fn world(self) -> &'static str {
        match self {
            PluginKind::Router => "router",
            PluginKind::Segmenter => "segmenter",
            PluginKind::Overlay => "overlay",
            PluginKind::FrameFilter => "frame-filter",
        }
    }

    /// Parses a world name (`router`, `frame-filter`, …).
    pub fn from_world(name: &str) -> Option<PluginKind> {
        PluginKind::ALL.into_iter().find(|k| k.world() == name)
    }

    /// The export that marks a component as implementing this world.
    fn export_name(self) -> &'static str {
        match self {
            PluginKind::Router => "route",
            PluginKind::Segmenter => "plan",
            PluginKind::Overlay => "framejet:plugin/overlays@0.1.0",
            PluginKind::FrameFilter => "framejet:plugin/filters@0.1.0",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the `{}` world", self.world())
    }
}

/// Import namespaces a plugin may use. WASI filesystem is allowed as an
/// import because Rust's standard library links it, but no directory is
/// ever opened for a plugin, so it reaches nothing.
const ALLOWED_IMPORT_PREFIXES: &[&str] = &[
    "framejet:plugin/host@",
    "framejet:plugin/types@",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:io/",
    "wasi:filesystem/",
];

/// What a component is, as far as framejet cares.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ComponentSummary {
    /// The world it implements.
    pub kind: PluginKind,
    /// Every import, by name.
    pub imports: Vec<String>,
    /// Every export, by name.
    pub exports: Vec<String>,
}

/// Finds the world `component` implements and checks that every import is
/// allowed. Signatures are checked later, when the component is linked.
pub fn inspect(
    engine: &Engine,
    plugin: &str,
    component: &Component,
) -> Result<ComponentSummary, PluginError> {
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();

    if let Some(import) = imports
        .iter()
        .find(|name| !ALLOWED_IMPORT_PREFIXES.iter().any(|p| name.starts_with(p)))
    {
        return Err(PluginError::ForbiddenImport {
            plugin: plugin.to_string(),
            import: import.clone(),
        });
    }

    let kinds: Vec<PluginKind> = PluginKind::ALL
        .into_iter()
        .filter(|kind| exports.iter().any(|name| name == kind.export_name()))
        .collect();
    match kinds.as_slice() {
        [kind] => Ok(ComponentSummary {
            kind: *kind,
            imports,
            exports,
        }),
        [] => Err(PluginError::WrongWorld {
            plugin: plugin.to_string(),
            expected: "one of the worlds router, segmenter, overlay, frame-filter".into(),
            found: describe_exports(&exports),
        }),
        several => Err(PluginError::WrongWorld {
            plugin: plugin.to_string(),
            expected: "exactly one framejet world".into(),
            found: several
                .iter()
                .map(|k| k.world())
                .collect::<Vec<_>>()
                .join(" and "),
        }),
    }
}

fn describe_exports(exports: &[String]) -> String {
    if exports.is_empty() {
        "no exports".into()
    } else {
        format!("exports [{}]", exports.join(", "))
    }
}
