//! The connectors a server can run: bundled ones loaded from a directory of
//! components at start-up, each compiled once and kept by name (the same for
//! every tenant); installed ones, kept by digest once fetched and verified
//! (which tenant may run them is the registry's install, read at each
//! resolution: [`crate::Handle::resolve`]); and the digests taken down.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use weft_registry::Takedown;
use weft_sandbox::{Plugin, Sandbox};
use weft_types::Manifest;

/// Loaded connectors: bundled by name, installed by digest, and the denied
/// digests.
#[derive(Default)]
pub struct Connectors {
    by_name: RwLock<BTreeMap<String, Entry>>,
    /// Installed artifacts that verified, by digest (64 hex), with the
    /// digest of the disclosure derived from them.
    verified: RwLock<HashMap<String, (Arc<Plugin>, String)>>,
    /// Taken-down digests (64 hex) and why: nothing runs them.
    denied: RwLock<HashMap<String, Takedown>>,
    /// Installed digests (64 hex) loaded ahead of their first step, or tried
    /// and refused: tried once per process (a refusal is reported by the
    /// step that resolves to it).
    ahead: RwLock<HashSet<String>>,
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

    /// An installed artifact verified earlier, by digest (64 hex), with its
    /// disclosure's digest.
    pub fn verified(&self, digest: &str) -> Option<(Arc<Plugin>, String)> {
        self.verified
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(digest)
            .cloned()
    }

    /// Keeps an installed artifact that verified (its digest recomputed, its
    /// signature checked), under its digest (64 hex), with the digest of
    /// the disclosure derived from it.
    pub(crate) fn keep_verified(&self, digest: &str, plugin: Arc<Plugin>, disclosure: String) {
        self.verified
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest.to_owned(), (plugin, disclosure));
    }

    /// Marks an installed digest (64 hex) as tried ahead of its first step;
    /// false if it was already.
    pub(crate) fn try_ahead(&self, digest: &str) -> bool {
        self.ahead
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest.to_owned())
    }

    /// Denies a digest (64 hex) at once: steps resolving to it fail
    /// `taken_down` with the takedown's reason. A loaded artifact of it is
    /// dropped.
    pub fn deny(&self, digest: &str, takedown: Takedown) {
        self.verified
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(digest);
        self.denied
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest.to_owned(), takedown);
    }

    /// Adds `all` (the registry's takedowns, re-read periodically) to the
    /// denied set; returns how many digests it holds.
    pub fn set_denied(&self, all: Vec<(String, Takedown)>) -> usize {
        let all: HashMap<String, Takedown> = all.into_iter().collect();
        self.verified
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|d, _| !all.contains_key(d));
        // Merged, never replaced: a read taken just before a takedown
        // committed must not erase the `deny` this process applied since
        // (takedowns are never undone).
        let mut denied = self.denied.write().unwrap_or_else(PoisonError::into_inner);
        for (digest, takedown) in all {
            denied.entry(digest).or_insert(takedown);
        }
        denied.len()
    }

    /// The takedown of a digest (64 hex), if it is denied.
    pub fn denied(&self, digest: &str) -> Option<Takedown> {
        self.denied
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(digest)
            .cloned()
    }

    /// The bundled manifests: the part of every tenant's catalogue that is
    /// the same for all ([`crate::Handle::catalog`] adds the tenant's
    /// installs).
    pub fn catalog(&self) -> BTreeMap<String, Manifest> {
        self.by_name
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, e)| (k.clone(), e.plugin.manifest().clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn takedown(reason: &str) -> Takedown {
        Takedown {
            reason: reason.into(),
            by: "operator".into(),
            at: 1,
        }
    }

    #[test]
    fn a_denied_digest_stays_denied_whatever_a_stale_re_read_says() {
        let c = Connectors::new();
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        assert!(c.denied(&a).is_none());
        c.deny(&a, takedown("malware"));
        assert_eq!(c.denied(&a).unwrap().reason, "malware");
        // A re-read taken before `a`'s takedown committed adds `b` and keeps
        // `a` (takedowns are never undone; replacing the set would let `a`
        // run again until the next re-read).
        assert_eq!(c.set_denied(vec![(b.clone(), takedown("leaks"))]), 2);
        assert_eq!(c.denied(&a).unwrap().reason, "malware");
        assert_eq!(c.denied(&b).unwrap().reason, "leaks");
    }
}
