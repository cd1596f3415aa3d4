//! The connectors a server can run: bundled ones loaded from a directory of
//! components at start-up, each compiled once and kept by name.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use weft_sandbox::{Plugin, Sandbox};
use weft_types::Manifest;

/// Loaded connectors by name.
#[derive(Default)]
pub struct Connectors {
    by_name: RwLock<BTreeMap<String, Entry>>,
}

/// One loaded connector.
#[derive(Clone)]
pub struct Entry {
    /// The loaded component.
    pub plugin: Arc<Plugin>,
    /// Where it came from: `bundled` or `installed`.
    pub source: &'static str,
}

impl Connectors {
    /// No connectors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every `*.wasm` in `dir` as a bundled connector. A component that
    /// does not load is logged and skipped; the names loaded are returned.
    ///
    /// # Errors
    /// The directory cannot be read.
    pub async fn load_dir(&self, sandbox: &Sandbox, dir: &Path) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut paths: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        paths.sort();
        for path in paths {
            match sandbox.load_file(&path).await {
                Ok(plugin) => {
                    names.push(plugin.manifest().name.clone());
                    self.insert(plugin, "bundled");
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "connector not loaded")
                }
            }
        }
        Ok(names)
    }

    /// Adds (or replaces) a connector under its manifest name.
    pub fn insert(&self, plugin: Arc<Plugin>, source: &'static str) {
        let name = plugin.manifest().name.clone();
        self.by_name
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, Entry { plugin, source });
    }

    /// The connector called `name`.
    pub fn get(&self, name: &str) -> Option<Entry> {
        self.by_name
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// Every connector, by name.
    pub fn list(&self) -> Vec<Entry> {
        self.by_name
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// The manifests, as the validator's catalogue.
    pub fn catalog(&self) -> BTreeMap<String, Manifest> {
        self.by_name
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, e)| (k.clone(), e.plugin.manifest().clone()))
            .collect()
    }
}
