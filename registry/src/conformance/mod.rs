//! The conformance suites of the registry's storage ports: one async
//! function per behaviour of [`RegistryStore`] and of [`Blobs`]. Every
//! adapter runs all of them, unchanged, through
//! [`registry_conformance_tests!`](crate::registry_conformance_tests) and
//! [`blobs_conformance_tests!`](crate::blobs_conformance_tests).
//!
//! Each function takes a factory that returns a fresh, empty store. The
//! functions never sleep and never read the clock: every time is a fixed
//! number, so a failure reproduces. Failures panic with a message naming the
//! broken behaviour: this module is test support, compiled only with the
//! `conformance` feature.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod blobs;
mod installs;
mod publishers;
mod search;
mod uploads;
mod versions;

pub use blobs::*;
pub use installs::*;
pub use publishers::*;
pub use search::*;
pub use uploads::*;
pub use versions::*;

use crate::{
    Blobs, Disclosure, Error, Install, Kind, Package, Publisher, PublisherKey, RegistryStore,
    SearchQuery, Version,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::{future::Future, sync::Arc};

/// The tenant most functions write to.
pub const A: &str = "ten_a";
/// Another tenant, which must never see [`A`]'s installs.
pub const B: &str = "ten_b";

async fn fresh<F, Fut>(factory: F) -> Arc<dyn RegistryStore>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    factory().await
}

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn publisher(name: &str, tenant: &str) -> Publisher {
    Publisher {
        name: name.into(),
        tenant_id: tenant.into(),
        verified: false,
        created_at: 10,
    }
}

fn key(publisher: &str, key_id: &str, created_at: i64) -> PublisherKey {
    PublisherKey {
        publisher: publisher.into(),
        key_id: key_id.into(),
        public_key: sha(key_id),
        created_at,
        revoked_at: None,
    }
}

/// A disclosure reaching `hosts` with one credential slot `token` for `slot_hosts`.
fn disclosure(hosts: &[&str], slot_hosts: &[&str]) -> Disclosure {
    let set = |h: &[&str]| h.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    let mut credentials = BTreeMap::new();
    if !slot_hosts.is_empty() {
        credentials.insert("token".to_owned(), set(slot_hosts));
    }
    Disclosure {
        imports: if hosts.is_empty() {
            set(&["log", "types"])
        } else {
            set(&["http", "log", "types"])
        },
        network: set(hosts),
        credentials,
        state: false,
    }
}

/// A connector version with every field set, its digest that of its name.
fn version(publisher: &str, name: &str, v: &str) -> Version {
    let disclosure = disclosure(&["api.example.com"], &[]);
    Version {
        publisher: publisher.into(),
        name: name.into(),
        version: v.into(),
        kind: Kind::Connector,
        digest: sha(&format!("{publisher}/{name}@{v}")),
        size: 1234,
        manifest: serde_json::json!({ "name": name, "version": v, "nested": { "n": 1.5 } }),
        description: format!("The {name} connector"),
        disclosure_digest: sha(&format!("disclosure {name} {v}")),
        disclosure,
        readme: format!("# {name}\n\nUsage notes."),
        keywords: vec!["alpha".into(), "beta".into()],
        license: "MIT OR Apache-2.0".into(),
        source: Some(format!("https://example.com/{name}")),
        key_id: "0123456789abcdef".into(),
        signature: "ab".repeat(64),
        published_at: 100,
        yanked: false,
        taken_down: None,
    }
}

fn install(tenant: &str, id: &str, v: &Version) -> Install {
    Install {
        id: id.into(),
        tenant_id: tenant.into(),
        publisher: v.publisher.clone(),
        name: v.name.clone(),
        kind: v.kind,
        pin: format!("={}", v.version),
        version: v.version.clone(),
        digest: v.digest.clone(),
        consent_digest: v.disclosure_digest.clone(),
        consented_by: "key_admin".into(),
        consented_at: 200,
        held: None,
        created_at: 200,
    }
}

async fn put_publisher(store: &dyn RegistryStore, name: &str) {
    store
        .create_publisher(&publisher(name, A))
        .await
        .unwrap_or_else(|e| panic!("creating publisher {name}: {e}"));
}

async fn publish(store: &dyn RegistryStore, v: &Version) {
    store
        .publish(v)
        .await
        .unwrap_or_else(|e| panic!("publishing {}/{}@{}: {e}", v.publisher, v.name, v.version));
}

async fn package(store: &dyn RegistryStore, publisher: &str, name: &str) -> Package {
    store
        .get_package(publisher, name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("package {publisher}/{name} is missing"))
}

/// The `publisher/name` of every package of every page of `query`.
async fn search_all(store: &dyn RegistryStore, query: &SearchQuery) -> Vec<String> {
    let mut query = query.clone();
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = store.search(&query).await.unwrap();
        assert!(
            page.items.len() <= query.limit.max(1) as usize,
            "a page holds at most `limit` packages"
        );
        out.extend(
            page.items
                .iter()
                .map(|p| format!("{}/{}", p.publisher, p.name)),
        );
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => return out,
        }
    }
    panic!("search never ended: the cursor does not advance");
}

fn query(text: Option<&str>) -> SearchQuery {
    SearchQuery {
        text: text.map(str::to_owned),
        limit: 100,
        ..SearchQuery::default()
    }
}

fn duplicate<T: std::fmt::Debug>(got: crate::Result<T>, what: &str) {
    assert!(
        matches!(got, Err(Error::Duplicate(_))),
        "{what}: expected Duplicate, got {got:?}"
    );
}

fn not_found<T: std::fmt::Debug>(got: crate::Result<T>, what: &str) {
    assert!(
        matches!(got, Err(Error::NotFound(_))),
        "{what}: expected NotFound, got {got:?}"
    );
}

/// Turns the [`RegistryStore`] suite into tests in the calling crate:
/// `weft_registry::registry_conformance_tests!(#[tokio::test] factory);`
/// where `factory` is an `async fn() -> Arc<dyn RegistryStore>` returning a
/// fresh, empty store.
#[macro_export]
macro_rules! registry_conformance_tests {
    ($(#[$attr:meta])* $factory:path) => {
        $crate::registry_conformance_tests!(@each [$(#[$attr])*] $factory;
            publishers_create_get_and_duplicate,
            publishers_set_verified,
            publisher_names_lists_every_publisher,
            keys_add_list_and_duplicate,
            keys_revoke_keeps_the_first_time,
            publish_creates_the_package,
            publish_refuses_duplicate_version_and_kind_change,
            publish_needs_the_publisher,
            publish_refuses_a_name_taken_by_another_publisher,
            versions_in_semver_order,
            latest_prefers_a_release,
            version_by_digest_first_published,
            yank_and_unyank,
            takedown_keeps_the_first,
            installs_create_get_list,
            installs_update_and_delete,
            installs_count_is_current_installs,
            installs_isolated_by_tenant,
            installs_of_digest_over_tenants,
            installed_digests_one_per_digest,
            install_needs_the_package,
            search_exact_name_before_readme,
            search_matches_every_field,
            search_filters_kind_publisher_verified,
            search_filter_no_network,
            search_filter_credential_host,
            search_capabilities_follow_latest,
            search_sort_by_installs,
            search_pages_are_stable,
            search_hides_uninstallable,
            search_refuses_a_foreign_cursor,
            search_takes_eight_long_terms,
            uploads_count_unpublished_bytes_per_tenant,
            uploads_stale_and_forget,
        );
    };
    (@each $attrs:tt $factory:path; $($name:ident,)*) => {
        $( $crate::registry_conformance_tests!(@one $attrs $factory; $name); )*
    };
    (@one [$($attr:tt)*] $factory:path; $name:ident) => {
        $($attr)*
        async fn $name() {
            $crate::conformance::$name($factory).await;
        }
    };
}

/// Turns the [`Blobs`] suite into tests in the calling crate:
/// `weft_registry::blobs_conformance_tests!(#[tokio::test] factory);` where
/// `factory` is an `async fn() -> Arc<dyn Blobs>` returning an empty store.
#[macro_export]
macro_rules! blobs_conformance_tests {
    ($(#[$attr:meta])* $factory:path) => {
        $crate::registry_conformance_tests!(@each [$(#[$attr])*] $factory;
            blobs_put_get_has,
            blobs_never_serve_mismatched_bytes,
            blobs_delete,
        );
    };
}

async fn fresh_blobs<F, Fut>(factory: F) -> Arc<dyn Blobs>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Blobs>>,
{
    factory().await
}
