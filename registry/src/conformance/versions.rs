//! Publishing versions, their order, yank and takedown.

use super::*;
use crate::Takedown;

/// The first version creates the package; a version reads back whole.
pub async fn publish_creates_the_package<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    assert_eq!(store.get_package("acme", "http").await.unwrap(), None);
    let mut v = version("acme", "http", "1.0.0");
    v.source = None;
    v.disclosure = disclosure(&["api.example.com", "*.example.org"], &["api.example.com"]);
    publish(&*store, &v).await;
    let mut t = version("acme", "starter", "0.1.0");
    t.kind = Kind::Template;
    t.published_at = 150;
    publish(&*store, &t).await;
    assert_eq!(
        store.get_version("acme", "http", "1.0.0").await.unwrap(),
        Some(v.clone()),
        "a version reads back as published"
    );
    assert_eq!(
        store.get_version("acme", "http", "1.0.1").await.unwrap(),
        None
    );
    assert_eq!(
        package(&*store, "acme", "http").await,
        Package {
            publisher: "acme".into(),
            name: "http".into(),
            kind: Kind::Connector,
            verified: false,
            latest: Some("1.0.0".into()),
            description: v.description.clone(),
            installs: 0,
            created_at: 100,
        }
    );
    assert_eq!(
        package(&*store, "acme", "starter").await.kind,
        Kind::Template
    );
    let mut names = store.package_names().await.unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            ("acme".into(), "http".into()),
            ("acme".into(), "starter".into())
        ]
    );
}

/// Versions are immutable and a package keeps its kind.
pub async fn publish_refuses_duplicate_version_and_kind_change<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    let v = version("acme", "http", "1.0.0");
    publish(&*store, &v).await;
    let mut again = v.clone();
    again.digest = sha("other bytes");
    again.readme = "changed".into();
    duplicate(store.publish(&again).await, "re-publishing a version");
    assert_eq!(
        store.get_version("acme", "http", "1.0.0").await.unwrap(),
        Some(v),
        "a refused re-publish changes nothing"
    );
    let mut template = version("acme", "http", "2.0.0");
    template.kind = Kind::Template;
    duplicate(store.publish(&template).await, "a version of another kind");
    assert_eq!(
        store.get_version("acme", "http", "2.0.0").await.unwrap(),
        None
    );
    assert_eq!(
        package(&*store, "acme", "http").await.latest.as_deref(),
        Some("1.0.0")
    );
}

/// A version belongs to an existing publisher.
pub async fn publish_needs_the_publisher<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    not_found(
        store.publish(&version("nobody", "http", "1.0.0")).await,
        "publishing under an unknown publisher",
    );
    assert!(store.package_names().await.unwrap().is_empty());
}

/// A package name is taken once, whatever the publisher: the database
/// refuses a second publisher's package of that name (`Duplicate` naming the
/// package that has it), even when both publish at once.
pub async fn publish_refuses_a_name_taken_by_another_publisher<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    put_publisher(&*store, "zeta").await;
    publish(&*store, &version("acme", "http", "1.0.0")).await;
    match store.publish(&version("zeta", "http", "2.0.0")).await {
        Err(Error::Duplicate(m)) => assert!(
            m.contains("acme/http"),
            "the refusal names the package that has the name: {m}"
        ),
        other => panic!("another publisher's package of a taken name: {other:?}"),
    }
    publish(&*store, &version("acme", "http", "1.1.0")).await;
    publish(&*store, &version("zeta", "http2", "1.0.0")).await;
    // Two publishers racing for one new name: exactly one wins.
    for i in 0..5 {
        let name = format!("race{i}");
        let (a, b) = (
            version("acme", &name, "1.0.0"),
            version("zeta", &name, "1.0.0"),
        );
        let (x, y) = tokio::join!(store.publish(&a), store.publish(&b));
        let won = [&x, &y].iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            won, 1,
            "{name}: one of two concurrent publishes wins: {x:?} {y:?}"
        );
        let lost = if x.is_ok() { y } else { x };
        duplicate(lost, "the concurrent publish that lost");
    }
    let names = store.package_names().await.unwrap();
    for i in 0..5 {
        let n = names
            .iter()
            .filter(|(_, p)| *p == format!("race{i}"))
            .count();
        assert_eq!(n, 1, "race{i} is one package: {names:?}");
    }
    assert!(
        !names.contains(&("zeta".into(), "http".into())),
        "{names:?}"
    );
}

/// `list_versions` is highest first by semver precedence, not text.
pub async fn versions_in_semver_order<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    for v in [
        "1.9.0",
        "1.10.0-rc.1",
        "0.2.0",
        "1.10.0",
        "1.10.0-alpha.10",
        "1.10.0-alpha.9",
    ] {
        publish(&*store, &version("acme", "http", v)).await;
    }
    let listed: Vec<String> = store
        .list_versions("acme", "http")
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(
        listed,
        [
            "1.10.0",
            "1.10.0-rc.1",
            "1.10.0-alpha.10",
            "1.10.0-alpha.9",
            "1.9.0",
            "0.2.0"
        ],
        "semver order, highest first"
    );
    assert_eq!(
        package(&*store, "acme", "http").await.latest.as_deref(),
        Some("1.10.0"),
        "1.10.0 is after 1.9.0"
    );
    assert!(
        store
            .list_versions("acme", "none")
            .await
            .unwrap()
            .is_empty()
    );
}

/// `latest` is the highest release; a pre-release only when there is no release.
pub async fn latest_prefers_a_release<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    publish(&*store, &version("acme", "http", "2.0.0-beta.1")).await;
    assert_eq!(
        package(&*store, "acme", "http").await.latest.as_deref(),
        Some("2.0.0-beta.1"),
        "only a pre-release: it is the latest"
    );
    let mut one = version("acme", "http", "1.4.0");
    one.description = "the 1.4 description".into();
    publish(&*store, &one).await;
    let p = package(&*store, "acme", "http").await;
    assert_eq!(
        p.latest.as_deref(),
        Some("1.4.0"),
        "a release before a higher pre-release"
    );
    assert_eq!(
        p.description, "the 1.4 description",
        "the latest version's description"
    );
}

/// Of versions sharing an artifact, the first published answers.
pub async fn version_by_digest_first_published<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    let first = version("acme", "http", "1.0.0");
    let mut second = version("acme", "http", "1.0.1");
    second.digest = first.digest.clone();
    second.published_at = 300;
    publish(&*store, &first).await;
    publish(&*store, &second).await;
    let other = version("acme", "mail", "1.0.0");
    publish(&*store, &other).await;
    assert_eq!(
        store.version_by_digest(&first.digest).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        store.version_by_digest(&other.digest).await.unwrap(),
        Some(other)
    );
    assert_eq!(
        store.version_by_digest(&sha("unknown")).await.unwrap(),
        None
    );
}

/// A yanked version stays readable, leaves `latest`, and comes back.
pub async fn yank_and_unyank<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    publish(&*store, &version("acme", "http", "1.9.0")).await;
    publish(&*store, &version("acme", "http", "1.10.0")).await;
    store
        .set_yanked("acme", "http", "1.10.0", true)
        .await
        .unwrap();
    let v = store
        .get_version("acme", "http", "1.10.0")
        .await
        .unwrap()
        .unwrap();
    assert!(v.yanked);
    assert_eq!(
        package(&*store, "acme", "http").await.latest.as_deref(),
        Some("1.9.0"),
        "latest skips a yanked version"
    );
    store
        .set_yanked("acme", "http", "1.10.0", true)
        .await
        .unwrap();
    store
        .set_yanked("acme", "http", "1.10.0", false)
        .await
        .unwrap();
    assert!(
        !store
            .get_version("acme", "http", "1.10.0")
            .await
            .unwrap()
            .unwrap()
            .yanked
    );
    assert_eq!(
        package(&*store, "acme", "http").await.latest.as_deref(),
        Some("1.10.0"),
        "an un-yanked version is the latest again"
    );
    not_found(
        store.set_yanked("acme", "http", "3.0.0", true).await,
        "yanking an unknown version",
    );
    not_found(
        store.set_yanked("acme", "none", "1.0.0", true).await,
        "yanking a version of an unknown package",
    );
}

/// The first takedown is kept; `taken_down` lists the digest; `latest` skips it.
pub async fn takedown_keeps_the_first<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    let old = version("acme", "http", "1.0.0");
    let bad = version("acme", "http", "1.1.0");
    publish(&*store, &old).await;
    publish(&*store, &bad).await;
    assert!(store.taken_down().await.unwrap().is_empty());
    let first = Takedown {
        reason: "exfiltrates tokens".into(),
        by: "key_operator".into(),
        at: 500,
    };
    let second = Takedown {
        reason: "another reason".into(),
        by: "key_other".into(),
        at: 900,
    };
    store
        .take_down("acme", "http", "1.1.0", &first)
        .await
        .unwrap();
    store
        .take_down("acme", "http", "1.1.0", &second)
        .await
        .unwrap();
    let v = store
        .get_version("acme", "http", "1.1.0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        v.taken_down,
        Some(first.clone()),
        "a second takedown keeps the first"
    );
    assert_eq!(
        store.taken_down().await.unwrap(),
        [(bad.digest.clone(), first)]
    );
    assert_eq!(
        package(&*store, "acme", "http").await.latest.as_deref(),
        Some("1.0.0"),
        "latest skips a taken-down version"
    );
    store
        .set_yanked("acme", "http", "1.1.0", false)
        .await
        .unwrap();
    assert_eq!(
        package(&*store, "acme", "http").await.latest.as_deref(),
        Some("1.0.0"),
        "un-yanking does not bring back a taken-down version"
    );
    not_found(
        store.take_down("acme", "http", "9.0.0", &second).await,
        "taking down an unknown version",
    );
}
