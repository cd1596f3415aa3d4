//! Search: relevance, filters, sort, pages, hidden packages.

use super::*;
use crate::{Sort, Takedown};

/// A connector `acme/name` at 1.0.0 with this text.
fn text_version(name: &str, description: &str, keywords: &[&str], readme: &str) -> Version {
    let mut v = version("acme", name, "1.0.0");
    v.description = description.into();
    v.keywords = keywords.iter().map(|k| (*k).to_owned()).collect();
    v.readme = readme.into();
    v
}

fn names(page: &[Package]) -> Vec<String> {
    page.iter()
        .map(|p| format!("{}/{}", p.publisher, p.name))
        .collect()
}

async fn found(store: &dyn RegistryStore, q: &SearchQuery) -> Vec<String> {
    names(&store.search(q).await.unwrap().items)
}

/// An exact name match ranks first, a name match before a README mention.
pub async fn search_exact_name_before_readme<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    for v in [
        text_version(
            "notifier",
            "Sends notifications",
            &[],
            "Works with slack and email.",
        ),
        text_version("slack-tools", "Helpers for chat", &[], "Utilities."),
        text_version("slack", "Post messages", &[], "Posts to channels."),
        text_version("mailer", "Sends mail", &[], "SMTP."),
    ] {
        publish(&*store, &v).await;
    }
    assert_eq!(
        found(&*store, &query(Some("slack"))).await,
        ["acme/slack", "acme/slack-tools", "acme/notifier"],
        "exact name, then a name match, then a README mention; no match left out"
    );
    assert_eq!(
        found(&*store, &query(Some("Slack")))
            .await
            .first()
            .map(String::as_str),
        Some("acme/slack"),
        "case does not matter"
    );
    let page = store.search(&query(Some("slack"))).await.unwrap();
    assert_eq!(
        page.items.first(),
        Some(&package(&*store, "acme", "slack").await),
        "a result is the package as get_package reads it"
    );
    assert_eq!(page.next, None, "one page holds every match");
}

/// Text matches name, description, keywords and README, by word prefix, all words.
pub async fn search_matches_every_field<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    for v in [
        text_version("by-name", "plain", &[], "plain"),
        text_version("by-desc", "Talks to zorblax servers", &[], "plain"),
        text_version("by-keyword", "plain", &["quuxify"], "plain"),
        text_version(
            "by-readme",
            "plain",
            &[],
            "## Setup\nSet the frobnicator token.",
        ),
    ] {
        publish(&*store, &v).await;
    }
    for (text, expect) in [
        ("by-name", "acme/by-name"),
        ("zorblax", "acme/by-desc"),
        ("quuxify", "acme/by-keyword"),
        ("frobnicator", "acme/by-readme"),
        ("zorb", "acme/by-desc"),
        ("plain zorblax", "acme/by-desc"),
    ] {
        assert_eq!(
            found(&*store, &query(Some(text))).await,
            [expect],
            "searching {text:?}"
        );
    }
    assert!(
        found(&*store, &query(Some("zorblax quuxify")))
            .await
            .is_empty(),
        "every word"
    );
    assert!(
        found(&*store, &query(Some("nothingmatches")))
            .await
            .is_empty()
    );
    assert_eq!(
        found(&*store, &query(Some("\"*:()&|!"))).await.len(),
        4,
        "punctuation alone is no text filter, and never a syntax error"
    );
}

/// Kind, publisher and verified narrow, alone and together.
pub async fn search_filters_kind_publisher_verified<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    put_publisher(&*store, "zeta").await;
    store.set_verified("acme", true).await.unwrap();
    publish(&*store, &version("acme", "http", "1.0.0")).await;
    let mut t = version("acme", "starter", "1.0.0");
    t.kind = Kind::Template;
    publish(&*store, &t).await;
    publish(&*store, &version("zeta", "mail", "1.0.0")).await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let q = |f: &dyn Fn(&mut SearchQuery)| {
        let mut q = query(None);
        f(&mut q);
        q
    };
    let cases: Vec<(SearchQuery, Vec<&str>)> = vec![
        (q(&|q| q.kind = Some(Kind::Template)), vec!["acme/starter"]),
        (
            q(&|q| q.kind = Some(Kind::Connector)),
            vec!["acme/http", "zeta/mail"],
        ),
        (q(&|q| q.publisher = Some("zeta".into())), vec!["zeta/mail"]),
        (q(&|q| q.publisher = Some("nobody".into())), vec![]),
        (
            q(&|q| q.verified = Some(true)),
            vec!["acme/http", "acme/starter"],
        ),
        (q(&|q| q.verified = Some(false)), vec!["zeta/mail"]),
        (
            q(&|q| {
                q.verified = Some(true);
                q.kind = Some(Kind::Connector);
            }),
            vec!["acme/http"],
        ),
        (
            q(&|q| {
                q.text = Some("mail".into());
                q.verified = Some(true);
            }),
            vec![],
        ),
        (
            q(&|q| q.text = Some("alpha".into())),
            vec!["acme/http", "acme/starter", "zeta/mail"],
        ),
    ];
    for (q, expect) in cases {
        assert_eq!(sorted(search_all(&*store, &q).await), expect, "{q:?}");
    }
}

/// "No network": the latest version's disclosure reaches no host.
pub async fn search_filter_no_network<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    let mut offline = version("acme", "offline", "1.0.0");
    offline.disclosure = disclosure(&[], &[]);
    publish(&*store, &offline).await;
    publish(&*store, &version("acme", "online", "1.0.0")).await;
    let mut q = query(None);
    q.no_network = true;
    assert_eq!(search_all(&*store, &q).await, ["acme/offline"]);
    q.text = Some("online".into());
    assert!(search_all(&*store, &q).await.is_empty());
}

/// "Uses credentials for `*.slack.com`" covers slots for hosts under it and itself.
pub async fn search_filter_credential_host<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    for (name, slot) in [
        ("api", Some("api.slack.com")),
        ("wild", Some("*.slack.com")),
        ("deep", Some("a.b.slack.com")),
        ("port", Some("api.slack.com:443")),
        ("apex", Some("slack.com")),
        ("evil", Some("slack.com.evil.io")),
        ("lookalike", Some("api.slack.company")),
        ("none", None),
    ] {
        let mut v = version("acme", name, "1.0.0");
        v.disclosure = disclosure(&["api.slack.com"], slot.as_slice());
        publish(&*store, &v).await;
    }
    let search = |pattern: &str| {
        let mut q = query(None);
        q.credential_host = Some(pattern.into());
        let store = store.clone();
        async move {
            let mut got = search_all(&*store, &q).await;
            got.sort();
            got
        }
    };
    assert_eq!(
        search("*.slack.com").await,
        ["acme/api", "acme/deep", "acme/port", "acme/wild"],
        "a wildcard covers its subdomains and itself, not the apex nor look-alikes"
    );
    assert_eq!(search("api.slack.com").await, ["acme/api", "acme/port"]);
    assert_eq!(search("API.Slack.COM").await, ["acme/api", "acme/port"]);
    assert_eq!(search("slack.com").await, ["acme/apex"]);
    assert_eq!(search("*").await.len(), 7, "`*`: any credential slot");
    assert!(search("*.example.org").await.is_empty());
}

/// Capability filters follow the latest installable version through publish and yank.
pub async fn search_capabilities_follow_latest<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    let mut v1 = version("acme", "conn", "1.0.0");
    v1.disclosure = disclosure(&[], &[]);
    v1.description = "first words".into();
    publish(&*store, &v1).await;
    let mut offline = query(None);
    offline.no_network = true;
    let mut slack = query(None);
    slack.credential_host = Some("*.slack.com".into());
    assert_eq!(search_all(&*store, &offline).await, ["acme/conn"]);
    assert!(search_all(&*store, &slack).await.is_empty());
    let mut v2 = version("acme", "conn", "1.1.0");
    v2.disclosure = disclosure(&["api.slack.com"], &["api.slack.com"]);
    v2.description = "second words".into();
    publish(&*store, &v2).await;
    assert!(
        search_all(&*store, &offline).await.is_empty(),
        "1.1.0 reaches the network"
    );
    assert_eq!(search_all(&*store, &slack).await, ["acme/conn"]);
    assert_eq!(
        search_all(&*store, &query(Some("second"))).await,
        ["acme/conn"]
    );
    assert!(
        search_all(&*store, &query(Some("first"))).await.is_empty(),
        "the text indexed is the latest version's"
    );
    store
        .set_yanked("acme", "conn", "1.1.0", true)
        .await
        .unwrap();
    assert_eq!(
        search_all(&*store, &offline).await,
        ["acme/conn"],
        "back to 1.0.0"
    );
    assert!(search_all(&*store, &slack).await.is_empty());
    assert_eq!(
        search_all(&*store, &query(Some("first"))).await,
        ["acme/conn"]
    );
}

async fn with_installs(store: &dyn RegistryStore, name: &str, installs: usize) {
    let v = version("acme", name, "1.0.0");
    publish(store, &v).await;
    for n in 0..installs {
        store
            .create_install(&install(&format!("ten_{n}"), &format!("ins_{name}"), &v))
            .await
            .unwrap();
    }
}

/// Sorted by installs, most first; relevance without text is the same order.
pub async fn search_sort_by_installs<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    for (name, n) in [("zero", 0), ("three", 3), ("one", 1), ("two", 2)] {
        with_installs(&*store, name, n).await;
    }
    let expect = ["acme/three", "acme/two", "acme/one", "acme/zero"];
    let mut q = query(None);
    q.sort = Sort::Installs;
    assert_eq!(search_all(&*store, &q).await, expect);
    q.sort = Sort::Relevance;
    assert_eq!(
        search_all(&*store, &q).await,
        expect,
        "relevance without text"
    );
    q.sort = Sort::Installs;
    q.text = Some("alpha".into());
    assert_eq!(
        search_all(&*store, &q).await,
        expect,
        "installs order with text"
    );
    let page = store.search(&q).await.unwrap();
    assert_eq!(page.items.first().map(|p| p.installs), Some(3));
}

/// Walking every page gives every match once, in the one-page order.
pub async fn search_pages_are_stable<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    for i in 0..23 {
        with_installs(&*store, &format!("pkg-{i:02}"), i % 3).await;
    }
    for (text, sort) in [
        (None, Sort::Installs),
        (None, Sort::Relevance),
        (Some("alpha"), Sort::Relevance),
        (Some("alpha"), Sort::Installs),
        (Some("pkg"), Sort::Relevance),
    ] {
        let mut q = query(text);
        q.sort = sort;
        let whole = search_all(&*store, &q).await;
        assert_eq!(whole.len(), 23, "{text:?} {sort:?}: every package matches");
        for limit in [1, 5, 7] {
            q.limit = limit;
            let paged = search_all(&*store, &q).await;
            assert_eq!(
                paged, whole,
                "{text:?} {sort:?} by {limit}: no duplicate, no gap, the same order"
            );
        }
        q.limit = 100;
    }
}

/// Packages with no installable version are hidden; one left shows it as latest.
pub async fn search_hides_uninstallable<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    for (name, v) in [
        ("yanked", "1.0.0"),
        ("gone", "1.0.0"),
        ("mixed", "1.0.0"),
        ("mixed", "2.0.0"),
    ] {
        publish(&*store, &version("acme", name, v)).await;
    }
    store
        .set_yanked("acme", "yanked", "1.0.0", true)
        .await
        .unwrap();
    store
        .set_yanked("acme", "mixed", "2.0.0", true)
        .await
        .unwrap();
    let takedown = Takedown {
        reason: "malware".into(),
        by: "key_operator".into(),
        at: 500,
    };
    store
        .take_down("acme", "gone", "1.0.0", &takedown)
        .await
        .unwrap();
    for text in [None, Some("alpha")] {
        let page = store.search(&query(text)).await.unwrap();
        assert_eq!(names(&page.items), ["acme/mixed"], "{text:?}");
        assert_eq!(page.items[0].latest.as_deref(), Some("1.0.0"));
    }
    let yanked = package(&*store, "acme", "yanked").await;
    assert_eq!(yanked.latest, None, "every version yanked: no latest");
    store
        .set_yanked("acme", "yanked", "1.0.0", false)
        .await
        .unwrap();
    let mut back = search_all(&*store, &query(Some("alpha"))).await;
    back.sort();
    assert_eq!(
        back,
        ["acme/mixed", "acme/yanked"],
        "un-yanked: found again"
    );
}

/// A cursor that no page produced is refused, not read as the first page.
pub async fn search_refuses_a_foreign_cursor<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    publish(&*store, &version("acme", "http", "1.0.0")).await;
    let mut q = query(None);
    q.cursor = Some("not a cursor".into());
    assert!(store.search(&q).await.is_err(), "a made-up cursor");
}

/// Eight words of 64 characters each (the most the application lets a
/// search text hold), in several scripts, are a valid query: each is found
/// by itself and all eight together, and punctuation between them is not
/// query syntax.
pub async fn search_takes_eight_long_terms<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    let words: Vec<String> = ["a", "0123456789", "é", "ß", "中", "x1", "ж", "ab12"]
        .iter()
        .map(|w| w.chars().cycle().take(64).collect())
        .collect();
    let readme = words.join(" ");
    publish(&*store, &text_version("long", "Long words", &[], &readme)).await;
    publish(&*store, &text_version("other", "plain", &[], "plain")).await;
    for w in &words {
        assert_eq!(
            found(&*store, &query(Some(w))).await,
            ["acme/long"],
            "a 64-character word: {w}"
        );
    }
    for sort in [Sort::Relevance, Sort::Installs] {
        let mut q = query(Some(&words.join(" ")));
        q.sort = sort;
        assert_eq!(found(&*store, &q).await, ["acme/long"], "8 words, {sort:?}");
        let mut q = query(Some(&words.join("\" *:&|!(-^")));
        q.sort = sort;
        assert_eq!(
            found(&*store, &q).await,
            ["acme/long"],
            "8 words between query-syntax punctuation, {sort:?}"
        );
    }
    let mut other = words.clone();
    other[7] = "q".repeat(64);
    assert!(
        found(&*store, &query(Some(&other.join(" "))))
            .await
            .is_empty(),
        "every word is required"
    );
}
