//! The plugin and template registry (docs/REGISTRY.md).
//!
//! - [`model`]: publishers and their keys, packages, immutable versions,
//!   installs per tenant, takedowns.
//! - [`Disclosure`]: what a connector can reach, derived from the component,
//!   and [`widening`]: what an upgrade adds to it (the consent rule).
//! - [`names`]: publisher and package names, versions, and the
//!   confusable-name refusal; [`sign`]: publish signatures and key files;
//!   [`Pin`]: `=1.2.3` and `^1`, and which version a pin resolves to.
//! - [`RegistryStore`] and [`Blobs`]: the storage ports. The adapters live
//!   with the stores (`weft-store-sqlite`, `weft-store-postgres`); the
//!   filesystem blob store is [`FsBlobs`]. Each port has a conformance suite
//!   (feature `conformance`) that every adapter runs unchanged.
//! - [`Template`]: a workflow template, its parameters placed by JSON
//!   pointer; the starter set is in `registry/templates/`.

pub mod blobs;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod disclosure;
pub mod index;
pub mod model;
pub mod names;
pub mod pin;
mod port;
pub mod sign;
pub mod template;

pub use blobs::FsBlobs;
pub use disclosure::{Disclosure, Widening, widening, widens};
pub use model::{HeldUpgrade, Install, Kind, Package, Publisher, PublisherKey, Takedown, Version};
pub use names::{NameError, NameRefusal};
pub use pin::Pin;
pub use port::{Blobs, RegistryStore, SearchPage, SearchQuery, Sort};
pub use template::{Difficulty, Example, Problems, Template};
pub use weft_store::{Error, Result};
