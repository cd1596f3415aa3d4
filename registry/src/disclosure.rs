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

/// The package of the interfaces a disclosure lists.
const WEFT_PLUGIN: &str = "weft:plugin/";

impl Disclosure {
    /// Derives the disclosure of a connector from its full import names (as
    /// the world fit reads them: `weft:plugin/http@0.1.0`,
    /// `wasi:io/streams@0.2.4`…) and the manifest its `describe` returned.
    ///
    /// Only `weft:plugin` interfaces are listed. The network is the hosts
    /// the manifest declares, and none without the `http` import; the
    /// credentials are the declared slots with their hosts; state is the
    /// `state` import (what the component can call, whatever the manifest
    /// says).
    pub fn derive(imports: &[String], manifest: &weft_types::Manifest) -> Self {
        let imports: BTreeSet<String> = imports
            .iter()
            .filter_map(|full| full.strip_prefix(WEFT_PLUGIN))
            .map(|rest| {
                rest.split_once('@')
                    .map_or(rest, |(name, _)| name)
                    .to_owned()
            })
            .collect();
        let caps = &manifest.capabilities;
        let network = if imports.contains("http") {
            caps.hosts.iter().map(ToString::to_string).collect()
        } else {
            BTreeSet::new()
        };
        let credentials = caps
            .credentials
            .iter()
            .map(|slot| {
                let hosts = slot.hosts.iter().map(ToString::to_string).collect();
                (slot.name.clone(), hosts)
            })
            .collect();
        let state = imports.contains("state");
        Self {
            imports,
            network,
            credentials,
            state,
        }
    }

    /// The canonical JSON: fields in a fixed order, sets and maps sorted and
    /// deduplicated, no spaces.
    pub fn canonical_json(&self) -> Vec<u8> {
        // Serialising sets and maps of strings cannot fail; the fallback only
        // keeps this total (it is still one text per disclosure).
        serde_json::to_vec(self).unwrap_or_else(|_| format!("{self:?}").into_bytes())
    }

    /// The hex SHA-256 of [`Disclosure::canonical_json`]: what a tenant
    /// consents to.
    pub fn digest(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(self.canonical_json()))
    }
}

/// One way a new disclosure reaches further than an old one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Widening {
    /// A `weft:plugin` interface not imported before.
    NewImport {
        /// The interface (`http`, `state`…).
        import: String,
    },
    /// A host pattern no old pattern covers.
    NewHost {
        /// The pattern.
        host: String,
    },
    /// A credential slot not declared before.
    NewCredential {
        /// The slot.
        slot: String,
        /// The hosts its secret may be sent to.
        hosts: BTreeSet<String>,
    },
    /// A host on an existing slot that none of its old hosts covers.
    NewCredentialHost {
        /// The slot.
        slot: String,
        /// The pattern.
        host: String,
    },
    /// State kept between runs, where there was none.
    State,
}

impl std::fmt::Display for Widening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NewImport { import } => write!(f, "imports `weft:plugin/{import}` (new)"),
            Self::NewHost { host } => write!(f, "may call `{host}` (new host)"),
            Self::NewCredential { slot, hosts } => {
                let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
                write!(
                    f,
                    "asks for the credential `{slot}`, sent to `{}` (new credential)",
                    hosts.join("`, `")
                )
            }
            Self::NewCredentialHost { slot, host } => {
                write!(
                    f,
                    "may send the credential `{slot}` to `{host}` (new host for it)"
                )
            }
            Self::State => f.write_str("keeps state between runs (new)"),
        }
    }
}

/// Whether the host pattern `new` is covered by one of `old`: every host it
/// matches, one of them matches (`*.slack.com` covers `api.slack.com`, not
/// the reverse). A pattern that does not parse is covered only by itself.
pub fn covered(new: &str, old: &BTreeSet<String>) -> bool {
    if old.contains(new) {
        return true;
    }
    let Ok(new) = new.parse::<weft_types::HostPattern>() else {
        return false;
    };
    old.iter()
        .filter_map(|o| o.parse::<weft_types::HostPattern>().ok())
        .any(|o| new.is_within(&o))
}

/// Every way `new` reaches further than `old`, in a stable order: new
/// imports, new hosts, new credentials and new hosts on old ones, state.
/// Empty when `new` narrows or keeps what `old` had.
pub fn widening(old: &Disclosure, new: &Disclosure) -> Vec<Widening> {
    let mut out: Vec<Widening> = new
        .imports
        .difference(&old.imports)
        .map(|i| Widening::NewImport { import: i.clone() })
        .collect();
    out.extend(
        new.network
            .iter()
            .filter(|h| !covered(h, &old.network))
            .map(|h| Widening::NewHost { host: h.clone() }),
    );
    for (slot, hosts) in &new.credentials {
        match old.credentials.get(slot) {
            None => out.push(Widening::NewCredential {
                slot: slot.clone(),
                hosts: hosts.clone(),
            }),
            Some(old_hosts) => {
                out.extend(hosts.iter().filter(|h| !covered(h, old_hosts)).map(|h| {
                    Widening::NewCredentialHost {
                        slot: slot.clone(),
                        host: h.clone(),
                    }
                }))
            }
        }
    }
    if new.state && !old.state {
        out.push(Widening::State);
    }
    out
}

/// Whether `new` reaches further than `old` in any way ([`widening`] is
/// not empty): an upgrade to it needs the tenant's consent again.
pub fn widens(old: &Disclosure, new: &Disclosure) -> bool {
    !widening(old, new).is_empty()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use weft_types::{ActionSpec, Capabilities, CredentialSlot, HostPattern, Manifest};

    fn hosts(list: &[&str]) -> Vec<HostPattern> {
        list.iter().map(|h| h.parse().unwrap()).collect()
    }

    fn manifest(net: &[&str], slots: &[(&str, &[&str])], state: bool) -> Manifest {
        Manifest {
            name: "jira".into(),
            version: "1.0.0".into(),
            description: "Jira".into(),
            actions: vec![ActionSpec {
                name: "create".into(),
                description: "create an issue".into(),
                input_schema: serde_json::json!({}),
                output_schema: serde_json::json!({}),
            }],
            capabilities: Capabilities {
                hosts: hosts(net),
                credentials: slots
                    .iter()
                    .map(|(name, h)| CredentialSlot {
                        name: (*name).into(),
                        description: String::new(),
                        hosts: hosts(h),
                        optional: false,
                    })
                    .collect(),
                state,
            },
            config_schema: None,
            triggers: Vec::new(),
        }
    }

    fn set(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn imports(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn derived_from_the_imports_and_the_declarations() {
        let m = manifest(
            &["API.example.com", "*.atlassian.net"],
            &[("token", &["*.atlassian.net"])],
            false,
        );
        let d = Disclosure::derive(
            &imports(&[
                "weft:plugin/http@0.1.0",
                "weft:plugin/state@0.1.0",
                "weft:plugin/log@0.1.0",
                "weft:plugin/types@0.1.0",
                "wasi:io/streams@0.2.4",
                "wasi:clocks/monotonic-clock@0.2.4",
            ]),
            &m,
        );
        assert_eq!(d.imports, set(&["http", "log", "state", "types"]));
        assert_eq!(d.network, set(&["*.atlassian.net", "api.example.com"]));
        assert_eq!(d.credentials.len(), 1);
        assert_eq!(d.credentials["token"], set(&["*.atlassian.net"]));
        // State comes from the import, though the manifest did not declare it.
        assert!(d.state);
        assert_eq!(
            String::from_utf8(d.canonical_json()).unwrap(),
            r#"{"imports":["http","log","state","types"],"network":["*.atlassian.net","api.example.com"],"credentials":{"token":["*.atlassian.net"]},"state":true}"#
        );
    }

    #[test]
    fn no_http_import_means_no_network_whatever_the_manifest_says() {
        let m = manifest(&["*"], &[], true);
        let d = Disclosure::derive(
            &imports(&["weft:plugin/log@0.1.0", "weft:plugin/types"]),
            &m,
        );
        assert!(d.network.is_empty());
        assert_eq!(d.imports, set(&["log", "types"]));
        // Declaring state without importing it reaches nothing.
        assert!(!d.state);
    }

    #[test]
    fn covered_hosts_do_not_widen_and_the_reverse_does() {
        let old = Disclosure {
            network: set(&["*.slack.com"]),
            ..Disclosure::default()
        };
        let narrower = Disclosure {
            network: set(&["api.slack.com", "files.slack.com:443"]),
            ..Disclosure::default()
        };
        assert!(widening(&old, &narrower).is_empty());
        assert_eq!(
            widening(&narrower, &old),
            vec![Widening::NewHost {
                host: "*.slack.com".into()
            }]
        );
        // The apex is not a subdomain; another port is not covered.
        let apex = Disclosure {
            network: set(&["slack.com"]),
            ..Disclosure::default()
        };
        assert!(widens(&old, &apex));
        let pinned = Disclosure {
            network: set(&["api.example.com:443"]),
            ..Disclosure::default()
        };
        let any_port = Disclosure {
            network: set(&["api.example.com"]),
            ..Disclosure::default()
        };
        assert!(widens(&pinned, &any_port));
        assert!(!widens(&any_port, &pinned));
    }

    #[test]
    fn every_kind_of_widening_is_listed_with_a_message() {
        let old = Disclosure {
            imports: set(&["http", "log"]),
            network: set(&["api.example.com"]),
            credentials: BTreeMap::from([("token".into(), set(&["api.example.com"]))]),
            state: false,
        };
        let new = Disclosure {
            imports: set(&["http", "log", "state"]),
            network: set(&["api.example.com", "uploads.example.com"]),
            credentials: BTreeMap::from([
                ("token".into(), set(&["api.example.com", "*.example.com"])),
                ("webhook".into(), set(&["hooks.example.com"])),
            ]),
            state: true,
        };
        let w = widening(&old, &new);
        let shown: Vec<String> = w.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "imports `weft:plugin/state` (new)",
                "may call `uploads.example.com` (new host)",
                "may send the credential `token` to `*.example.com` (new host for it)",
                "asks for the credential `webhook`, sent to `hooks.example.com` (new credential)",
                "keeps state between runs (new)",
            ]
        );
        assert_eq!(
            serde_json::to_value(&w[3]).unwrap(),
            serde_json::json!({"kind": "new_credential", "slot": "webhook", "hosts": ["hooks.example.com"]})
        );
        assert!(widening(&new, &old).is_empty());
    }

    // Small alphabets, so that equal and covering values are common.
    const HOSTS: &[&str] = &[
        "*",
        "*:443",
        "*.example.com",
        "*.example.com:443",
        "*.api.example.com",
        "api.example.com",
        "api.example.com:443",
        "v2.api.example.com",
        "example.com",
        "*.slack.com",
        "hooks.slack.com",
        "10.0.0.5",
        "[::1]:8080",
        "not a pattern",
    ];
    const IMPORTS: &[&str] = &["http", "log", "state", "types"];
    const SLOTS: &[&str] = &["token", "webhook"];

    fn pick(from: &'static [&'static str], max: usize) -> impl Strategy<Value = BTreeSet<String>> {
        proptest::collection::btree_set(
            proptest::sample::select(from).prop_map(str::to_owned),
            0..=max,
        )
    }

    fn disclosure() -> impl Strategy<Value = Disclosure> {
        (
            pick(IMPORTS, 4),
            pick(HOSTS, 3),
            proptest::collection::btree_map(
                proptest::sample::select(SLOTS).prop_map(str::to_owned),
                pick(HOSTS, 2),
                0..=2,
            ),
            any::<bool>(),
        )
            .prop_map(|(imports, network, credentials, state)| Disclosure {
                imports,
                network,
                credentials,
                state,
            })
    }

    /// `d` with some of everything removed (by the mask's bits).
    fn remove(d: &Disclosure, mask: u64) -> Disclosure {
        let bit = std::cell::Cell::new(0u32);
        let keep = || {
            bit.set((bit.get() + 1) % 64);
            mask & (1 << bit.get()) != 0
        };
        Disclosure {
            imports: d.imports.iter().filter(|_| keep()).cloned().collect(),
            network: d.network.iter().filter(|_| keep()).cloned().collect(),
            credentials: d
                .credentials
                .iter()
                .filter(|_| keep())
                .map(|(k, v)| (k.clone(), v.iter().filter(|_| keep()).cloned().collect()))
                .collect(),
            state: d.state && keep(),
        }
    }

    proptest! {
        #[test]
        fn nothing_widens_itself(a in disclosure()) {
            prop_assert!(widening(&a, &a).is_empty());
        }

        #[test]
        fn removing_never_widens(a in disclosure(), mask in any::<u64>()) {
            let b = remove(&a, mask);
            prop_assert!(widening(&a, &b).is_empty(), "{:?}", widening(&a, &b));
        }

        #[test]
        fn within_is_transitive(a in disclosure(), b in disclosure(), c in disclosure()) {
            // a ⊆ b (b to a does not widen) and b ⊆ c imply a ⊆ c.
            if !widens(&b, &a) && !widens(&c, &b) {
                prop_assert!(!widens(&c, &a), "{:?}", widening(&c, &a));
            }
        }

        #[test]
        fn within_is_transitive_along_narrowings(c in disclosure(), m1 in any::<u64>(), m2 in any::<u64>()) {
            let b = remove(&c, m1);
            let a = remove(&b, m2);
            prop_assert!(!widens(&c, &a));
        }

        #[test]
        fn host_cover_is_transitive(a in 0..HOSTS.len(), b in 0..HOSTS.len(), c in 0..HOSTS.len()) {
            let (a, b, c) = (HOSTS[a], HOSTS[b], HOSTS[c]);
            if covered(a, &set(&[b])) && covered(b, &set(&[c])) {
                prop_assert!(covered(a, &set(&[c])), "{a} ⊆ {b} ⊆ {c}");
            }
        }

        #[test]
        fn digest_equal_iff_disclosure_equal(a in disclosure(), b in disclosure()) {
            prop_assert_eq!(a.digest() == b.digest(), a == b);
            let back: Disclosure = serde_json::from_slice(&a.canonical_json()).unwrap();
            prop_assert_eq!(back.digest(), a.digest());
        }

        #[test]
        fn adding_what_is_not_covered_widens(a in disclosure(), host in proptest::sample::select(HOSTS)) {
            let mut b = a.clone();
            b.network.insert(host.to_owned());
            prop_assert_eq!(widens(&a, &b), !covered(host, &a.network));
        }
    }
}
