//! Component cache: compile once per SHA-256 digest, keep the precompiled artifact
//! on disk, and verify it before loading it again.
//!
//! An artifact is native code, so loading a tampered one would run arbitrary code
//! in the host. Each file is `MAGIC || HMAC-SHA256(key, digest || engine || artifact)
//! || artifact`; the key is generated on first use and kept (0600) beside the
//! artifacts in a directory created 0700. A file that fails the check is ignored,
//! counted, and replaced by a fresh compilation.
//!
//! A component that exports `init` is cached as its pre-initialised snapshot
//! ([`Kind::Snapshot`], see `crate::preinit`): the artifact of the rewritten
//! component, kept under the ORIGINAL digest with a snapshot marker in the file
//! name and in the HMAC, so a warm start finds it without running `init` again.

use crate::Error;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};
use std::{
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};
use wasmtime::{Engine, component::Component};
use weft_types::Reason;

const MAGIC: &[u8; 8] = b"WEFTCW01";

/// A component's identity: the SHA-256 of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// Hashes component bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

/// Which artifact of a digest: the component as given, or its pre-initialised
/// snapshot (for components that export `init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The component's own bytes, compiled.
    Plain,
    /// The snapshot taken after running its `init` once, compiled. The marker
    /// changes when the way snapshots are taken changes, so older snapshots
    /// are not reused.
    Snapshot,
}

impl Kind {
    /// What distinguishes this kind's file name and HMAC from the plain ones.
    fn marker(self) -> &'static str {
        match self {
            Self::Plain => "",
            Self::Snapshot => "+init1",
        }
    }
}

/// Counters of what the cache did, for tests, benchmarks and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Components compiled from source bytes.
    pub compiled: u64,
    /// Loads served from a verified on-disk artifact.
    pub disk_hits: u64,
    /// On-disk artifacts refused by the integrity check.
    pub rejected: u64,
    /// Pre-initialisations run: a component's `init` called and its instance
    /// snapshotted (once per digest; a warm start reads the snapshot's artifact).
    pub snapshots: u64,
}

pub(crate) struct DiskCache {
    dir: Option<PathBuf>,
    key: [u8; 32],
    engine_id: String,
    compiled: AtomicU64,
    disk_hits: AtomicU64,
    rejected: AtomicU64,
    snapshots: AtomicU64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn load_key(dir: &Path) -> Result<[u8; 32], Error> {
    let path = dir.join("artifact.key");
    match std::fs::read(&path) {
        Ok(k) if k.len() == 32 => {
            let mut key = [0; 32];
            key.copy_from_slice(&k);
            return Ok(key);
        }
        Ok(_) => {
            tracing::warn!(path = %path.display(), "artifact key has the wrong length; generating a new one")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // The first sandbox on this directory makes the key; when several
            // start at once (threads or processes), one of them wins and the
            // others read its key, so they all accept each other's artifacts.
            let key: [u8; 32] = rand::random();
            let tmp = write_tmp(&path, &key)?;
            let linked = std::fs::hard_link(&tmp, &path);
            let _ = std::fs::remove_file(&tmp);
            return match linked {
                Ok(()) => Ok(key),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_key(dir),
                Err(e) => Err(io(&path)(e)),
            };
        }
        Err(e) => return Err(io(&path)(e)),
    }
    let key: [u8; 32] = rand::random();
    write_private(&path, &key)?;
    Ok(key)
}

/// Writes `data` to a new private (0600) file beside `path`, named for this
/// write alone, synced; returns its path.
fn write_tmp(path: &Path, data: &[u8]) -> Result<PathBuf, Error> {
    use std::io::Write;
    let tmp = path.with_extension(format!(
        "tmp{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(io(&tmp))?;
    f.write_all(data).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    Ok(tmp)
}

/// Replaces `path` with `data` atomically (a private file renamed over it):
/// concurrent writers of the same artifact each write their own file, and the
/// last rename wins with whole bytes.
fn write_private(path: &Path, data: &[u8]) -> Result<(), Error> {
    let tmp = write_tmp(path, data)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path)(e)
    })
}

impl DiskCache {
    pub(crate) fn new(engine: &Engine, dir: Option<PathBuf>) -> Result<Self, Error> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_id = format!("{:016x}", hasher.finish());
        let key = match &dir {
            Some(d) => {
                let mut b = std::fs::DirBuilder::new();
                b.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
                b.create(d).map_err(io(d))?;
                load_key(d)?
            }
            None => [0; 32],
        };
        Ok(Self {
            dir,
            key,
            engine_id,
            compiled: AtomicU64::new(0),
            disk_hits: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            snapshots: AtomicU64::new(0),
        })
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            disk_hits: self.disk_hits.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            snapshots: self.snapshots.load(Ordering::Relaxed),
        }
    }

    /// Counts one pre-initialisation (an `init` run and snapshotted).
    pub(crate) fn count_snapshot(&self) {
        self.snapshots.fetch_add(1, Ordering::Relaxed);
    }

    /// The artifact file of a digest's kind (public for tests that tamper with it).
    pub(crate) fn path(&self, digest: &Digest, kind: Kind) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| {
            d.join(format!(
                "{}-{}{}.cwasm",
                hex::encode(digest.0),
                self.engine_id,
                kind.marker()
            ))
        })
    }

    fn mac(&self, digest: &Digest, kind: Kind, artifact: &[u8]) -> Result<Hmac<Sha256>, Error> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).map_err(|e| Error::Engine(e.to_string()))?;
        mac.update(&digest.0);
        // The engine id has a fixed length and an artifact starts with `\x7fELF`,
        // so the marker cannot be confused with either.
        mac.update(self.engine_id.as_bytes());
        mac.update(kind.marker().as_bytes());
        mac.update(artifact);
        Ok(mac)
    }

    /// Returns the compiled component, from a verified artifact or by compiling
    /// `bytes` (blocking: call from a blocking thread).
    pub(crate) fn load(
        &self,
        engine: &Engine,
        digest: &Digest,
        bytes: &[u8],
    ) -> Result<Component, Error> {
        if let Some(c) = self.cached(engine, digest, Kind::Plain) {
            return Ok(c);
        }
        self.compile(engine, digest, Kind::Plain, bytes)
    }

    /// The verified artifact of `digest`'s `kind`, if there is one (blocking).
    pub(crate) fn cached(&self, engine: &Engine, digest: &Digest, kind: Kind) -> Option<Component> {
        let path = self.path(digest, kind)?;
        let c = self.load_artifact(engine, digest, kind, &path)?;
        self.disk_hits.fetch_add(1, Ordering::Relaxed);
        Some(c)
    }

    /// Compiles `bytes` and keeps the artifact as `digest`'s `kind` (blocking).
    /// For [`Kind::Snapshot`], `bytes` are the snapshot's, `digest` the original's.
    pub(crate) fn compile(
        &self,
        engine: &Engine,
        digest: &Digest,
        kind: Kind,
        bytes: &[u8],
    ) -> Result<Component, Error> {
        let component = Component::new(engine, bytes).map_err(compile_error)?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        if let Some(path) = self.path(digest, kind) {
            match component.serialize() {
                Ok(artifact) => {
                    let tag = self.mac(digest, kind, &artifact)?.finalize().into_bytes();
                    let mut file = Vec::with_capacity(MAGIC.len() + tag.len() + artifact.len());
                    file.extend_from_slice(MAGIC);
                    file.extend_from_slice(&tag);
                    file.extend_from_slice(&artifact);
                    if let Err(e) = write_private(&path, &file) {
                        tracing::warn!(error = %e, "cannot write the precompiled artifact; continuing without it");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot serialize the compiled component"),
            }
        }
        release_freed_memory();
        Ok(component)
    }

    fn load_artifact(
        &self,
        engine: &Engine,
        digest: &Digest,
        kind: Kind,
        path: &Path,
    ) -> Option<Component> {
        let file = std::fs::read(path).ok()?;
        let verified = file.len() > MAGIC.len() + 32
            && file.starts_with(MAGIC)
            && self
                .mac(digest, kind, &file[MAGIC.len() + 32..])
                .ok()
                .is_some_and(|m| m.verify_slice(&file[MAGIC.len()..MAGIC.len() + 32]).is_ok());
        if !verified {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(path = %path.display(), plugin.digest = %digest, "precompiled artifact failed its integrity check; recompiling");
            return None;
        }
        // SAFETY: `Component::deserialize` runs the bytes as native code. These bytes
        // were produced by `Component::serialize` in this installation: the HMAC over
        // them (keyed by a secret only this host reads, bound to the component digest
        // and the engine's compatibility hash) verified just above.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, &file[MAGIC.len() + 32..]) };
        match component {
            Ok(c) => Some(c),
            Err(e) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "precompiled artifact did not load; recompiling");
                None
            }
        }
    }
}

/// Gives the pages the allocator holds free back to the kernel. Compiling (and
/// pre-initialising) a component allocates tens of MiB in cranelift, on the
/// compiling thread and rayon's; glibc keeps the freed memory in each thread's
/// arena, so a server that compiled its bundled connectors at start idled at
/// ~90 MiB instead of ~25. Called after each compilation (once per digest, off
/// the step's path); it takes a few milliseconds.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free memory of glibc's own arenas to
    // the kernel; it takes each arena's lock and touches no live allocation.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Maps a compilation failure to a load error: limits of the pooling allocator are
/// named, everything else is the validator's message.
pub(crate) fn compile_error(e: wasmtime::Error) -> Error {
    let msg = format!("{e:#}");
    let lower = msg.to_ascii_lowercase();
    let reason = if lower.contains("memor")
        && (lower.contains("exceeds") || lower.contains("limit"))
    {
        Some(Reason::MemoryLimit)
    } else if lower.contains("table") && (lower.contains("exceeds") || lower.contains("limit")) {
        Some(Reason::TableLimit)
    } else if lower.contains("instance") && (lower.contains("exceeds") || lower.contains("limit")) {
        Some(Reason::InstanceLimit)
    } else {
        None
    };
    match reason {
        Some(reason) => Error::Limit {
            reason,
            message: msg,
        },
        None => Error::InvalidWasm(msg),
    }
}
