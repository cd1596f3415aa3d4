//! The capability disclosure: what a connector can reach, derived from the
//! component itself (its imports and what `describe` declares), never from
//! text its publisher typed. Its digest is what a tenant consents to.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What a version can reach. Canonical: sets are sorted and deduplicated, so
/// equal disclosures serialise (and digest) equally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    /// The `weft:plugin` interfaces the component imports, by interface name
    /// without package or version (`http`, `log`, `state`, `types`).
    pub imports: BTreeSet<String>,
    /// The host patterns it may call (`api.example.com`, `*.slack.com`):
    /// those its manifest declares, and none without the `http` import.
    pub network: BTreeSet<String>,
    /// Each credential slot it declares, with the host patterns the secret
    /// may be sent to.
    pub credentials: BTreeMap<String, BTreeSet<String>>,
    /// It keeps state between runs (imports `state`).
    pub state: bool,
}
