//! Loading a component: refuse bad bytes early, compile once (cached by digest),
//! check it fits the world, pre-link it, and read its manifest.

use crate::{Error, cache::Digest, host::HostState};
use std::sync::Arc;
use weft_types::Manifest;
use weft_world::{ConnectorPre, fit::Shape};

/// A loaded plugin, ready to be instantiated many times.
pub struct Plugin {
    pub(crate) digest: Digest,
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) shape: Shape,
    pub(crate) pre: ConnectorPre<HostState>,
    /// The `weft:plugin/trigger` export, when the component has one.
    pub(crate) trigger: Option<weft_world::wit_trigger::GuestIndices>,
    pub(crate) size: usize,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("digest", &self.digest)
            .field("name", &self.manifest.name)
            .finish()
    }
}

impl Plugin {
    /// The SHA-256 of the component bytes.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// What the plugin said about itself.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Its accepted imports and its exports.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// Size of the component in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The same component for one invocation whose step declares credential
    /// slots of its own (a code step's `credentials`: the script names them,
    /// the bundled `code` connector's manifest cannot list them): `slots`
    /// are added to the manifest's, each limited to its own `hosts`. The
    /// host's checks are then the ones every connector gets (a slot must be
    /// declared and bound; a secret goes only to hosts of both the slot and
    /// the credential). A slot the manifest declares already is not
    /// replaced.
    #[must_use]
    pub fn with_slots(&self, slots: Vec<weft_types::CredentialSlot>) -> Self {
        let mut manifest = (*self.manifest).clone();
        for slot in slots {
            if manifest.credential(&slot.name).is_none() {
                manifest.capabilities.credentials.push(slot);
            }
        }
        Self {
            digest: self.digest,
            manifest: Arc::new(manifest),
            shape: self.shape.clone(),
            pre: self.pre.clone(),
            trigger: self.trigger.clone(),
            size: self.size,
        }
    }
}

/// Refuses what is obviously not a component before the compiler sees it.
pub(crate) fn precheck(bytes: &[u8], limit: usize) -> Result<(), Error> {
    if bytes.len() > limit {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(Error::InvalidWasm(
            "not a WebAssembly binary: the file does not start with the `\\0asm` magic".into(),
        ));
    }
    match bytes[4..8] {
        [0x0d, 0x00, 0x01, 0x00] => Ok(()),
        [0x01, 0x00, 0x00, 0x00] => Err(Error::NotAComponent(
            "this is a core WebAssembly module, not a component: build it with `cargo build --target wasm32-wasip2` \
             (or wrap it with `wasm-tools component new`)"
                .into(),
        )),
        _ => Err(Error::InvalidWasm(format!("unknown WebAssembly version/layer bytes {:02x?}", &bytes[4..8]))),
    }
}
