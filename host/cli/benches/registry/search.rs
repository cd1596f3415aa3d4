//! Search latency: the corpus written through the `RegistryStore` port, then
//! the same queries timed at the port (SQLite, PostgreSQL) and through the
//! API (`GET /v1/registry/packages` on `weft serve`, SQLite).

use crate::corpus::Corpus;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_client::Client;
use weft_model::registry::{PackageKind, PackageQuery, PackageSort};
use weft_registry::{Kind, RegistryStore, SearchQuery, Sort};

/// Writes the corpus through the port: publishers, versions (8 writers at
/// once, each package's versions in order), yanks, installs. Returns the
/// wall time.
pub async fn fill(store: Arc<dyn RegistryStore>, corpus: &Corpus) -> Duration {
    let t = Instant::now();
    for p in &corpus.publishers {
        store.create_publisher(p).await.unwrap();
    }
    let writers = 8;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        // A package's versions go to one writer (by the name's hash), in order.
        let mine: Vec<_> = corpus
            .versions
            .iter()
            .filter(|v| shard(&v.name, writers) == w)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            for v in mine {
                store.publish(&v).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for (p, n, v) in &corpus.yanks {
        store.set_yanked(p, n, v, true).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let mine: Vec<_> = corpus
            .installs
            .iter()
            .skip(w)
            .step_by(writers)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            for i in mine {
                store.create_install(&i).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    t.elapsed()
}

fn shard(name: &str, n: usize) -> usize {
    name.bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
        % n
}

/// One measured query: a label, the port's query and the API's, and whether
/// it asks for the second page (the first page's `next`, fetched untimed).
pub struct Case {
    pub label: String,
    pub port: SearchQuery,
    pub api: PackageQuery,
    pub page2: bool,
}

fn case(label: &str, text: Option<&str>, f: impl Fn(&mut SearchQuery)) -> Case {
    let mut port = SearchQuery {
        text: text.map(str::to_owned),
        limit: 20,
        ..SearchQuery::default()
    };
    f(&mut port);
    let api = PackageQuery {
        q: port.text.clone(),
        kind: port.kind.map(|k| match k {
            Kind::Connector => PackageKind::Connector,
            Kind::Template => PackageKind::Template,
        }),
        publisher: port.publisher.clone(),
        verified: port.verified,
        no_network: port.no_network.then_some(true),
        credential_host: port.credential_host.clone(),
        sort: Some(match port.sort {
            Sort::Relevance => PackageSort::Relevance,
            Sort::Installs => PackageSort::Installs,
        }),
        limit: Some(port.limit),
        cursor: None,
    };
    Case {
        label: label.into(),
        port,
        api,
        page2: false,
    }
}

/// The queries: a rare word, a common word, two words, filtered browsing,
/// a credential host, sort by installs, second pages.
pub fn cases(rare: &str) -> Vec<Case> {
    let mut v = vec![
        case(&format!("selective text (`{rare}`)"), Some(rare), |_| {}),
        case("common word (`data`)", Some("data"), |_| {}),
        case("two words (`slack message`)", Some("slack message"), |_| {}),
        case("browse: kind connector + no network", None, |q| {
            q.kind = Some(Kind::Connector);
            q.no_network = true;
        }),
        case("credentials for `*.slack.com`", None, |q| {
            q.credential_host = Some("*.slack.com".into());
        }),
        case("common word, sort by installs", Some("data"), |q| {
            q.sort = Sort::Installs;
        }),
        case("browse all, sort by installs", None, |q| {
            q.sort = Sort::Installs
        }),
        case("common word, page 2 (cursor)", Some("data"), |_| {}),
        case("browse all, page 2 (cursor)", None, |q| {
            q.sort = Sort::Installs
        }),
    ];
    let n = v.len();
    v[n - 2].page2 = true;
    v[n - 1].page2 = true;
    v
}

/// p50 and p99 in milliseconds.
pub fn percentiles(mut lat: Vec<Duration>) -> (f64, f64) {
    lat.sort();
    let p = |q: f64| {
        let i = ((lat.len() as f64 - 1.0) * q).round() as usize;
        lat[i].as_secs_f64() * 1e3
    };
    (p(0.5), p(0.99))
}

/// Every match of the query, walking all pages of 100 (untimed; the
/// adapters must agree on it).
pub async fn count(store: &dyn RegistryStore, q: &SearchQuery) -> usize {
    let mut q = SearchQuery {
        limit: 100,
        cursor: None,
        ..q.clone()
    };
    let mut n = 0;
    loop {
        let page = store.search(&q).await.unwrap();
        n += page.items.len();
        match page.next {
            Some(c) => q.cursor = Some(c),
            None => return n,
        }
    }
}

/// Times `samples` runs of each case at the port, after 10 warm-ups.
pub async fn at_port(store: &dyn RegistryStore, cases: &[Case], samples: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for c in cases {
        let mut q = c.port.clone();
        if c.page2 {
            q.cursor = store.search(&q).await.unwrap().next;
            assert!(q.cursor.is_some(), "{}: one page only", c.label);
        }
        let mut lat = Vec::with_capacity(samples);
        for i in 0..samples + 10 {
            let t = Instant::now();
            let page = store.search(&q).await.unwrap();
            let e = t.elapsed();
            assert!(!page.items.is_empty(), "{}: nothing found", c.label);
            if i >= 10 {
                lat.push(e);
            }
        }
        out.push(percentiles(lat));
    }
    out
}

/// Times `samples` runs of each case through the API, after 10 warm-ups.
pub async fn at_api(client: &Client, cases: &[Case], samples: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for c in cases {
        let mut q = c.api.clone();
        if c.page2 {
            q.cursor = client.search_packages(&q).await.unwrap().next;
            assert!(q.cursor.is_some(), "{}: one page only", c.label);
        }
        let mut lat = Vec::with_capacity(samples);
        for i in 0..samples + 10 {
            let t = Instant::now();
            let page = client.search_packages(&q).await.unwrap();
            let e = t.elapsed();
            assert!(!page.items.is_empty(), "{}: nothing found", c.label);
            if i >= 10 {
                lat.push(e);
            }
        }
        out.push(percentiles(lat));
    }
    out
}
