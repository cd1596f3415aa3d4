//! A generated registry: publishers, packages with names, descriptions,
//! keywords, READMEs and disclosures, and installs, from a fixed seed (the
//! same corpus on every run and on every adapter).
//!
//! Words follow a Zipf distribution over a vocabulary of domain words then
//! made-up ones, so a few words are in most packages and most words in few,
//! as in real package text.

use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use weft_registry::{Disclosure, Install, Kind, Publisher, Version};

/// splitmix64: small, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Domain words, most frequent first (the head of the Zipf curve).
#[rustfmt::skip]
const DOMAIN: &[&str] = &[
    "data", "api", "send", "message", "workflow", "webhook", "token", "request", "channel",
    "user", "event", "file", "sync", "report", "email", "notify", "json", "http", "create",
    "update", "list", "team", "issue", "task", "alert", "record", "query", "schedule", "queue",
    "storage", "upload", "download", "invoice", "payment", "customer", "order", "ticket",
    "lead", "contact", "calendar", "meeting", "document", "sheet", "table", "row", "column",
    "image", "video", "audio", "transcribe", "summarize", "translate", "classify", "extract",
    "parse", "validate", "transform", "filter", "merge", "split", "batch", "stream", "retry",
    "limit", "oauth", "secret", "credential", "signature", "verify", "encrypt", "hash",
    "compress", "archive", "backup", "restore", "monitor", "metric", "log", "trace", "deploy",
    "build", "release", "commit", "branch", "review", "comment", "label", "search", "index",
    "cache", "database", "postgres", "mysql", "redis", "kafka", "s3", "bucket", "cloud",
    "server", "cluster", "status", "health", "incident", "oncall", "page", "survey", "form",
    "feedback", "chat", "bot", "llm", "prompt", "embedding", "vector", "model", "agent", "crm",
    "erp", "ledger", "tax", "shipping", "inventory", "product", "catalog", "price", "discount",
    "coupon", "subscription", "billing", "refund", "dispute", "fraud", "risk", "compliance",
    "audit", "policy", "approval", "expense", "receipt", "travel", "booking", "weather", "map",
    "geocode", "route", "sms", "voice", "call", "push", "mobile", "device", "sensor", "iot",
    "rss", "feed", "news", "social", "post", "tweet", "photo", "pdf", "csv", "xml", "yaml",
    "markdown", "html", "template", "render", "diff",
];

/// Services whose hosts connectors declare, the common first.
#[rustfmt::skip]
const SERVICES: &[&str] = &[
    "slack", "github", "google", "openai", "stripe", "notion", "atlassian", "airtable",
    "twilio", "sendgrid", "hubspot", "salesforce", "shopify", "zendesk", "discord", "dropbox",
    "gitlab", "linear", "asana", "trello", "mailchimp", "intercom", "pagerduty", "datadog",
    "sentry",
];

/// The vocabulary: the domain words, then made-up words up to `n`.
fn vocabulary(n: usize) -> Vec<String> {
    #[rustfmt::skip]
    const SYL: &[&str] = &[
        "ka", "ro", "mi", "tsu", "ve", "lan", "dor", "qui", "zen", "pa", "lo", "rix", "ban", "te", "su", "gor", "nel", "fa", "wi", "mox",
    ];
    let mut words: Vec<String> = DOMAIN.iter().map(|w| (*w).to_owned()).collect();
    let mut seen: HashSet<String> = words.iter().cloned().collect();
    let mut rng = Rng::new(7);
    while words.len() < n {
        let w: String = (0..2 + rng.below(3)).map(|_| rng.pick(SYL)).collect();
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// Samples ranks with probability proportional to 1 / (rank + 1).
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        let mut acc = 0.0;
        let cumulative = (0..n)
            .map(|r| {
                acc += 1.0 / (r as f64 + 1.0);
                acc
            })
            .collect();
        Self { cumulative }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative[self.cumulative.len() - 1];
        let x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cumulative.partition_point(|c| *c < x)
    }
}

/// What the fill writes through the port.
pub struct Corpus {
    pub publishers: Vec<Publisher>,
    /// Every version, a package's in publishing order.
    pub versions: Vec<Version>,
    /// (publisher, name, version) to yank after publishing.
    pub yanks: Vec<(String, String, String)>,
    pub installs: Vec<Install>,
    /// A word found in a handful of packages (chosen after generating).
    pub rare_word: String,
}

fn sentence(rng: &mut Rng, zipf: &Zipf, vocab: &[String], words: usize) -> String {
    (0..words)
        .map(|_| vocab[zipf.sample(rng)].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What a generated connector can reach; a template reaches nothing.
fn disclosure(rng: &mut Rng, kind: Kind) -> Disclosure {
    let mut d = Disclosure::default();
    if kind == Kind::Template {
        return d;
    }
    d.imports = ["types", "log"].iter().map(|s| (*s).to_owned()).collect();
    if rng.chance(0.75) {
        d.imports.insert("http".into());
        let mut hosts = BTreeSet::new();
        for _ in 0..1 + rng.below(3) {
            // The common services most, a long tail of small ones.
            let host = if rng.chance(0.7) {
                let s = SERVICES[Zipf::new(SERVICES.len()).sample(rng)];
                let sub = rng.pick(&["api", "hooks", "*", "uploads"]);
                format!("{sub}.{s}.com")
            } else {
                format!("api.svc{}.io", rng.below(2000))
            };
            hosts.insert(host);
        }
        if rng.chance(0.45) {
            let slot = rng.pick(&["token", "api-key", "oauth"]).to_owned();
            d.credentials.insert(slot, hosts.clone());
        }
        d.network = hosts;
    }
    if rng.chance(0.15) {
        d.imports.insert("state".into());
        d.state = true;
    }
    d
}

/// The corpus of `packages` packages (about 400 publishers).
pub fn generate(packages: usize) -> Corpus {
    let mut rng = Rng::new(0x5eed_0012);
    // Large enough that the tail words are in a handful of packages each.
    let vocab = vocabulary(40_000);
    let zipf = Zipf::new(vocab.len());
    let publishers: Vec<Publisher> = (0..(packages / 25).max(2))
        .map(|i| Publisher {
            name: format!("{}-{}", vocab[200 + i * 7 % 3000], i),
            tenant_id: format!("ten_bench{:04}", i % 97),
            verified: rng.chance(0.1),
            created_at: 1_700_000_000_000 + i as i64,
        })
        .collect();
    let mut names = HashSet::new();
    let mut versions = Vec::new();
    let mut yanks = Vec::new();
    let mut latest: Vec<(String, String, Kind, String, String)> = Vec::new();
    let mut df: BTreeMap<String, usize> = BTreeMap::new();
    let mut at = 1_700_000_000_000i64;
    for i in 0..packages {
        let publisher = publishers[Zipf::new(publishers.len()).sample(&mut rng)]
            .name
            .clone();
        let mut name = format!("{}-{}", rng.pick(SERVICES), rng.pick(&DOMAIN[..80]));
        if !names.insert(name.clone()) {
            name = format!("{name}-{i}");
            names.insert(name.clone());
        }
        let kind = if rng.chance(0.15) {
            Kind::Template
        } else {
            Kind::Connector
        };
        let description = {
            let words = 6 + rng.below(9);
            let s = sentence(&mut rng, &zipf, &vocab, words);
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or(s)
        };
        let keywords: BTreeSet<String> = (0..2 + rng.below(4))
            .map(|_| DOMAIN[Zipf::new(DOMAIN.len()).sample(&mut rng)].to_owned())
            .collect();
        let mut readme = format!("# {name}\n\n{description}.\n");
        for _ in 0..3 + rng.below(4) {
            let words = 20 + rng.below(40);
            readme.push_str(&format!(
                "\n{}.\n",
                sentence(&mut rng, &zipf, &vocab, words)
            ));
        }
        readme.push_str(
            "\n## Setup\n\nInstall it, consent to what it reaches, and bind its credential.\n",
        );
        let text = format!("{name} {description} {readme}");
        let words: HashSet<&str> = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        for w in words {
            *df.entry(w.to_lowercase()).or_default() += 1;
        }
        let count = if rng.chance(0.25) {
            2 + rng.below(2)
        } else {
            1
        };
        let all_yanked = rng.chance(0.02);
        for n in 0..count {
            let version = format!("1.{n}.0");
            let d = disclosure(&mut rng, kind);
            at += 1;
            if all_yanked || (n > 0 && rng.chance(0.1)) {
                yanks.push((publisher.clone(), name.clone(), version.clone()));
            }
            versions.push(Version {
                publisher: publisher.clone(),
                name: name.clone(),
                version: version.clone(),
                kind,
                digest: digest(&format!("{publisher}/{name}@{version}")),
                size: 100_000 + rng.below(2_000_000) as u64,
                manifest: serde_json::json!({"name": name, "version": version, "description": description}),
                description: description.clone(),
                disclosure_digest: d.digest(),
                disclosure: d,
                readme: readme.clone(),
                keywords: keywords.iter().cloned().collect(),
                license: rng.pick(&["MIT", "Apache-2.0", "MIT OR Apache-2.0", "BSD-3-Clause"]).into(),
                source: Some(format!("https://git.example.com/{publisher}/{name}")),
                key_id: "0123456789abcdef".into(),
                signature: "00".repeat(64),
                published_at: at,
                yanked: false,
                taken_down: None,
            });
            let consent = versions[versions.len() - 1].disclosure_digest.clone();
            latest.push((publisher.clone(), name.clone(), kind, version, consent));
        }
    }
    // Installs: Zipf over the packages (the first 1,000 get 1000 / rank).
    let mut order: Vec<usize> = (0..latest.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut installs = Vec::new();
    let mut seen = HashSet::new();
    for (rank, &idx) in order.iter().take(1000).enumerate() {
        let (publisher, name, kind, version, consent) = &latest[idx];
        if !seen.insert((publisher.clone(), name.clone())) {
            continue;
        }
        for t in 0..1000 / (rank + 1) {
            installs.push(Install {
                id: format!("ins_bench_{rank}_{t}"),
                tenant_id: format!("ten_install{t:05}"),
                publisher: publisher.clone(),
                name: name.clone(),
                kind: *kind,
                pin: "^1".into(),
                version: version.clone(),
                digest: digest(&format!("{publisher}/{name}@{version}")),
                consent_digest: consent.clone(),
                consented_by: "bench".into(),
                consented_at: at,
                held: None,
                created_at: at,
            });
        }
    }
    // The rare word: a made-up word in 3 to 20 packages (as a prefix it
    // may match a few more: the search reports what it found).
    let rare_word = df
        .iter()
        .find(|(w, n)| {
            (3..=20).contains(*n) && w.len() >= 6 && w.chars().all(|c| c.is_ascii_lowercase())
        })
        .map(|(w, _)| w.clone())
        .expect("a word in 3 to 20 packages");
    Corpus {
        publishers,
        versions,
        yanks,
        installs,
        rare_word,
    }
}
