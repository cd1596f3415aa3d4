//! The plugin and template registry (docs/REGISTRY.md).
//!
//! - [`model`]: publishers and their keys, packages, immutable versions,
//!   installs per tenant, takedowns.
//! - [`Disclosure`]: what a connector can reach, derived from the component.
//! - [`RegistryStore`] and [`Blobs`]: the storage ports. The adapters live
//!   with the stores (`weft-store-sqlite`, `weft-store-postgres`); the
//!   filesystem blob store is [`FsBlobs`]. Each port has a conformance suite
//!   (feature `conformance`) that every adapter runs unchanged.

pub mod disclosure;
pub mod model;
mod port;

pub use disclosure::Disclosure;
pub use model::{HeldUpgrade, Install, Kind, Package, Publisher, PublisherKey, Takedown, Version};
pub use port::{Blobs, RegistryStore, SearchPage, SearchQuery, Sort};
pub use weft_store::{Error, Result};
