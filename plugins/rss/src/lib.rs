//! `rss`: read RSS 2.0 and Atom feeds.
//!
//! Action `read` (input `{url}`): the feed's title, link and entries.
//! Trigger `new-entries` (`triggers.poll`): GET the feed; one item per entry,
//! keyed by its guid (RSS) / id (Atom), else its link; the host starts a run per
//! entry the workflow has not seen.
//!
//! Formats: RSS 2.0 (<https://www.rssboard.org/rss-specification>), RSS 1.0
//! (RDF, items beside the channel) and Atom (RFC 4287). The XML is parsed with
//! `quick-xml` (no optional features): the five predefined entities and
//! character references are resolved, CDATA is text. The feed must be UTF-8
//! (or ISO-8859-1 when its XML declaration says so).
//!
//! An entry: `{id, title, link, published, summary, author, categories}`;
//! `published` is RFC 3339 in UTC when the date parses (RFC 822 for RSS,
//! RFC 3339 for Atom), else the feed's text; absent fields are `null`.

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use weft_sdk::http::{Request, redact_url};
use weft_sdk::{
    Action, Call, Connector, CredentialSlot, Error, Manifest, Poll, PollItem, PollResult, Result,
    Trigger, TriggerDef,
};

struct Rss;

/// The optional credential slot (hosts `*`): sent when `credential: true`.
const AUTH_SLOT: &str = "auth";
/// At most this many items per poll (the host's bound).
const MAX_ITEMS: usize = 1000;
/// The host's bound on an item key, in bytes.
const MAX_KEY: usize = 512;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadInput {
    url: String,
    #[serde(default)]
    credential: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PollConfig {
    url: String,
    #[serde(default)]
    credential: bool,
}

/// The trigger's cursor: the newest entry date seen, and the validators of
/// the last answer for a conditional GET.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
struct Cursor {
    #[serde(skip_serializing_if = "Option::is_none")]
    newest: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

impl Connector for Rss {
    fn manifest() -> Manifest {
        Manifest::new(
            "rss",
            env!("CARGO_PKG_VERSION"),
            "Read RSS 2.0 and Atom feeds; start a run for every new entry.",
        )
        .action(
            Action::new("read", "Fetch a feed and return its title, link and entries.")
                .input_schema(json!({
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["url"],
                    "properties": {
                        "url": {"type": "string", "description": "The feed's http(s) URL."},
                        "credential": {"type": "boolean", "default": false, "description": "Send the `auth` credential bound to the feed's host."}
                    }
                }))
                .output_schema(json!({
                    "type": "object",
                    "required": ["title", "link", "entries"],
                    "properties": {
                        "title": {"type": ["string", "null"]},
                        "link": {"type": ["string", "null"]},
                        "entries": {"type": "array", "items": entry_schema()}
                    }
                })),
        )
        .host("*")
        .credential(
            CredentialSlot::new(
                AUTH_SLOT,
                "Secret the host injects into requests to the feed hosts the tenant binds it to \
                 (used when `credential: true`).",
            )
            .host("*")
            .optional(true),
        )
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "read" => {
                let input: ReadInput = call.input()?;
                let body =
                    fetch(&input.url, input.credential, &Cursor::default())?.unwrap_or_default();
                let feed = parse(&body).map_err(|e| e.context(redact_url(&input.url)))?;
                Ok(json!({
                    "title": feed.title,
                    "link": feed.link,
                    "entries": feed.entries.iter().map(Entry::to_json).collect::<Vec<_>>(),
                }))
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

impl Trigger for Rss {
    fn triggers() -> Vec<TriggerDef> {
        vec![
            TriggerDef::new(
                "new-entries",
                "Poll an RSS or Atom feed and start a run for every entry not seen before.",
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["url"],
                "properties": {
                    "url": {"type": "string", "description": "The feed's http(s) URL."},
                    "credential": {"type": "boolean", "description": "Send the `auth` credential bound to the feed's host."}
                }
            }))
            .item_schema(entry_schema()),
        ]
    }

    fn poll(poll: Poll) -> Result<PollResult> {
        if poll.trigger() != "new-entries" {
            return Err(Error::invalid_input(format!(
                "the rss connector has no trigger `{}` (it has: new-entries)",
                poll.trigger()
            )));
        }
        let c: PollConfig = poll.config()?;
        // A cursor we cannot read (an older format) only costs a full poll.
        let cursor: Cursor = poll
            .cursor()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let Some(Fetched {
            body,
            etag,
            last_modified,
        }) = fetch_with_validators(&c.url, c.credential, &cursor)?
        else {
            // 304 Not Modified: nothing new, same cursor.
            return Ok(PollResult {
                items: Vec::new(),
                next_cursor: poll.cursor().map(str::to_owned),
            });
        };
        let feed = parse(&body).map_err(|e| e.context(redact_url(&c.url)))?;
        let mut newest = cursor.newest;
        let horizon = now_unix().saturating_add(86_400);
        let mut items = Vec::new();
        for (i, entry) in feed.entries.iter().enumerate() {
            if items.len() == MAX_ITEMS {
                break;
            }
            if let Some(t) = entry.published_at {
                // A date over a day ahead of now (a wrong clock, a scheduled
                // post) would hide every later entry: it does not count.
                if t <= horizon {
                    newest = Some(newest.map_or(t, |n| n.max(t)));
                }
                // Older than the newest entry of an earlier poll: seen then.
                if cursor.newest.is_some_and(|n| t < n) {
                    continue;
                }
            }
            let Some(key) = entry.key() else {
                return Err(Error::permanent(format!(
                    "{}: entry {i} has no guid, id, link or title to tell it apart",
                    redact_url(&c.url)
                )));
            };
            items.push(PollItem::new(key, entry.to_json()));
        }
        // Feeds list newest first: runs start oldest first.
        items.reverse();
        let next = Cursor {
            newest,
            etag: etag.filter(|v| v.len() <= 1024),
            last_modified: last_modified.filter(|v| v.len() <= 256),
        };
        Ok(PollResult {
            items,
            next_cursor: Some(
                serde_json::to_string(&next).map_err(|e| Error::permanent(e.to_string()))?,
            ),
        })
    }
}

/// Seconds since the Unix epoch by the guest's wall clock.
fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn entry_schema() -> Value {
    let text = json!({"type": ["string", "null"]});
    json!({
        "type": "object",
        "required": ["id", "title", "link", "published", "summary", "author", "categories"],
        "properties": {
            "id": {"type": "string", "description": "guid (RSS) or id (Atom), else the link."},
            "title": text, "link": text,
            "published": {"type": ["string", "null"], "description": "RFC 3339 (UTC) when the feed's date parses, else as the feed gives it."},
            "summary": {"type": ["string", "null"], "description": "description / summary (else content), as the feed gives it (may be HTML)."},
            "author": text,
            "categories": {"type": "array", "items": {"type": "string"}}
        }
    })
}

fn fetch(url: &str, credential: bool, cursor: &Cursor) -> Result<Option<String>> {
    Ok(fetch_with_validators(url, credential, cursor)?.map(|f| f.body))
}

/// A feed's answer: its text and validators.
struct Fetched {
    body: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// GETs the feed: `None` on 304; else the body as text and the answer's
/// `ETag` / `Last-Modified`. 4xx/5xx are classified errors.
fn fetch_with_validators(url: &str, credential: bool, cursor: &Cursor) -> Result<Option<Fetched>> {
    let mut req = Request::get(url).header(
        "accept",
        "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
    );
    if let Some(etag) = &cursor.etag {
        req = req.header("if-none-match", etag);
    }
    if let Some(lm) = &cursor.last_modified {
        req = req.header("if-modified-since", lm);
    }
    if credential {
        req = req.credential(AUTH_SLOT);
    }
    let response = req.fetch()?;
    if response.status() == 304 {
        return Ok(None);
    }
    let response = response.error_for_status()?;
    let etag = response.header("etag").map(str::to_owned);
    let lm = response.header("last-modified").map(str::to_owned);
    let text = decode(response.body()).map_err(|e| e.context(redact_url(url)))?;
    Ok(Some(Fetched {
        body: text,
        etag,
        last_modified: lm,
    }))
}

/// The body as text: UTF-8 (a BOM dropped), or ISO-8859-1 when the XML
/// declaration names it.
fn decode(body: &[u8]) -> Result<String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let head = String::from_utf8_lossy(&body[..body.len().min(200)]).to_ascii_lowercase();
    let declared = head
        .strip_prefix("<?xml")
        .and_then(|rest| rest.split("?>").next())
        .and_then(|decl| decl.split("encoding").nth(1))
        .map(|v| {
            v.trim_start_matches([' ', '='])
                .trim_start_matches(['"', '\''])
                .split(['"', '\''])
                .next()
                .unwrap_or("")
                .to_owned()
        });
    match declared.as_deref() {
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => String::from_utf8(body.to_vec())
            .map_err(|e| {
                Error::invalid_input(format!(
                    "the feed is not valid UTF-8 (byte {}) and its XML declaration names no other encoding",
                    e.utf8_error().valid_up_to()
                ))
            }),
        Some("iso-8859-1" | "latin1" | "latin-1") => Ok(body.iter().map(|&b| b as char).collect()),
        Some(other) => Err(Error::invalid_input(format!(
            "the feed's encoding `{other}` is not supported (UTF-8 and ISO-8859-1 are)"
        ))),
    }
}

// ---- A small element tree -------------------------------------------------

#[derive(Debug, Default)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
}

impl El {
    /// The name without its namespace prefix.
    fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    fn child_local(&self, local: &str) -> Option<&El> {
        self.children.iter().find(|c| c.local() == local)
    }

    /// The trimmed text of the first child named `name`, if not empty.
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).and_then(El::trimmed)
    }

    fn text_of_local(&self, local: &str) -> Option<String> {
        self.child_local(local).and_then(El::trimmed)
    }

    fn trimmed(&self) -> Option<String> {
        let t = self.text.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }
}

fn malformed(doc: &str, at: u64, what: impl std::fmt::Display) -> Error {
    let at = usize::try_from(at).unwrap_or(usize::MAX).min(doc.len());
    let before = &doc.as_bytes()[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = at
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    Error::invalid_input(format!(
        "the feed is not well-formed XML at line {line}, column {col}: {what}"
    ))
}

/// Parses the document into its root element.
fn tree(doc: &str) -> Result<El> {
    let mut reader = Reader::from_str(doc);
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(doc, reader.error_position(), e))?;
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let is_empty = matches!(event, Event::Empty(_));
                if root.is_some() {
                    return Err(malformed(
                        doc,
                        reader.buffer_position(),
                        "a second root element after the document's end",
                    ));
                }
                let mut el = El {
                    name: s.name().as_ref().to_owned(),
                    ..El::default()
                };
                for a in s.attributes() {
                    let a = a.map_err(|e| malformed(doc, reader.buffer_position(), e))?;
                    let v = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| malformed(doc, reader.buffer_position(), e))?;
                    el.attrs.push((a.key.as_ref().to_owned(), v.into_owned()));
                }
                if is_empty {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| {
                    malformed(doc, reader.buffer_position(), "an end tag with no start")
                })?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(malformed(
                        doc,
                        reader.buffer_position(),
                        "text outside the root element",
                    ));
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let Some(el) = stack.last_mut() else { continue };
                match r.resolve_char_ref() {
                    Ok(Some(c)) => el.text.push(c),
                    Ok(None) => {
                        let name = r.xml10_content();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(v) => el.text.push_str(v),
                            // An undeclared entity (HTML's `&nbsp;` and kin):
                            // kept as written rather than refusing the feed.
                            None => {
                                el.text.push('&');
                                el.text.push_str(&name);
                                el.text.push(';');
                            }
                        }
                    }
                    Err(e) => return Err(malformed(doc, reader.buffer_position(), e)),
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(Error::invalid_input(format!(
            "the feed is not well-formed XML: it ends inside <{}> (truncated?)",
            open.name
        )));
    }
    root.ok_or_else(|| Error::invalid_input("the feed is empty: it has no XML element"))
}

// ---- Feeds -----------------------------------------------------------------

#[derive(Debug, Default)]
struct Feed {
    title: Option<String>,
    link: Option<String>,
    entries: Vec<Entry>,
}

#[derive(Debug, Default)]
struct Entry {
    id: Option<String>,
    title: Option<String>,
    link: Option<String>,
    published: Option<String>,
    published_at: Option<i64>,
    summary: Option<String>,
    author: Option<String>,
    categories: Vec<String>,
}

impl Entry {
    /// The dedupe key: id, else link, else title (+ date); ≤ 512 bytes.
    fn key(&self) -> Option<String> {
        let key = self.id.clone().or_else(|| self.link.clone()).or_else(|| {
            self.title
                .as_ref()
                .map(|t| format!("{t}|{}", self.published.as_deref().unwrap_or("")))
        })?;
        if key.len() <= MAX_KEY {
            return Some(key);
        }
        let mut cut = 400;
        while !key.is_char_boundary(cut) {
            cut -= 1;
        }
        Some(format!("{}#{:016x}", &key[..cut], fnv1a(key.as_bytes())))
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.key(),
            "title": self.title,
            "link": self.link,
            "published": self.published,
            "summary": self.summary,
            "author": self.author,
            "categories": self.categories,
        })
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn parse(doc: &str) -> Result<Feed> {
    let root = tree(doc)?;
    match (root.local(), root.name.as_str()) {
        ("rss", _) => {
            let channel = root.child("channel").ok_or_else(|| {
                Error::invalid_input("the RSS document has no <channel> inside <rss>")
            })?;
            Ok(rss_feed(channel, &channel.children))
        }
        // RSS 1.0: <rdf:RDF><channel/><item/>...</rdf:RDF>.
        ("RDF", _) => {
            let channel = root.child_local("channel").ok_or_else(|| {
                Error::invalid_input("the RSS 1.0 document has no <channel> inside <rdf:RDF>")
            })?;
            Ok(rss_feed(channel, &root.children))
        }
        ("feed", _) => Ok(atom_feed(&root)),
        (_, name) => Err(Error::invalid_input(format!(
            "the document's root element is <{name}>, not <rss> (RSS) or <feed> (Atom): is the URL a feed?"
        ))),
    }
}

fn rss_feed(channel: &El, items: &[El]) -> Feed {
    let entries = items
        .iter()
        .filter(|c| c.local() == "item")
        .map(|item| {
            let guid = item.child("guid").and_then(|g| {
                let perma = g.attr("isPermaLink").is_none_or(|v| v.trim() != "false");
                g.trimmed().map(|t| (t, perma))
            });
            let link = item
                .text_of("link")
                .or_else(|| guid.as_ref().filter(|(_, p)| *p).map(|(g, _)| g.clone()));
            let date = item.text_of("pubDate").or_else(|| item.text_of("dc:date"));
            let (published, published_at) =
                date_of(date, |d| parse_rfc822(d).or_else(|| parse_rfc3339(d)));
            Entry {
                id: guid
                    .map(|(g, _)| g)
                    .or_else(|| item.attr("rdf:about").map(str::to_owned)),
                title: item.text_of("title"),
                link,
                published,
                published_at,
                summary: item
                    .text_of("description")
                    .or_else(|| item.text_of("content:encoded")),
                author: item
                    .text_of("author")
                    .or_else(|| item.text_of("dc:creator")),
                categories: item
                    .children
                    .iter()
                    .filter(|c| c.name == "category" || c.name == "dc:subject")
                    .filter_map(El::trimmed)
                    .collect(),
            }
        })
        .collect();
    Feed {
        title: channel.text_of("title"),
        link: channel.text_of("link"),
        entries,
    }
}

/// An Atom link's href: `rel="alternate"` (or no rel) first, else any.
fn atom_link(el: &El) -> Option<String> {
    let links: Vec<&El> = el.children.iter().filter(|c| c.local() == "link").collect();
    links
        .iter()
        .find(|l| l.attr("rel").is_none_or(|r| r == "alternate"))
        .or(links.first())
        .and_then(|l| l.attr("href"))
        .map(|h| h.trim().to_owned())
}

fn atom_author(el: &El) -> Option<String> {
    el.child_local("author")
        .and_then(|a| a.text_of_local("name").or_else(|| a.text_of_local("email")))
}

fn atom_feed(feed: &El) -> Feed {
    let feed_author = atom_author(feed);
    let entries = feed
        .children
        .iter()
        .filter(|c| c.local() == "entry")
        .map(|e| {
            let date = e
                .text_of_local("published")
                .or_else(|| e.text_of_local("updated"));
            let (published, published_at) = date_of(date, parse_rfc3339);
            Entry {
                id: e.text_of_local("id"),
                title: e.text_of_local("title"),
                link: atom_link(e),
                published,
                published_at,
                summary: e
                    .text_of_local("summary")
                    .or_else(|| e.text_of_local("content")),
                author: atom_author(e).or_else(|| feed_author.clone()),
                categories: e
                    .children
                    .iter()
                    .filter(|c| c.local() == "category")
                    .filter_map(|c| c.attr("term").or(c.attr("label")))
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            }
        })
        .collect();
    Feed {
        title: feed.text_of_local("title"),
        link: atom_link(feed),
        entries,
    }
}

/// The date as RFC 3339 (UTC) and Unix seconds when it parses, else as given.
fn date_of(
    date: Option<String>,
    parse: impl Fn(&str) -> Option<i64>,
) -> (Option<String>, Option<i64>) {
    match date {
        None => (None, None),
        Some(d) => match parse(&d) {
            Some(t) => (Some(rfc3339(t)), Some(t)),
            None => (Some(d), None),
        },
    }
}

// ---- Dates -----------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn rfc3339(t: i64) -> String {
    let (y, mo, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn valid(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> bool {
    (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s <= 60 && y >= 0
}

/// RFC 3339 (and the ISO 8601 subsets feeds use: no seconds, no offset).
fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |r: &str| -> Option<i64> {
        (!r.is_empty() && r.bytes().all(|b| b.is_ascii_digit())).then(|| r.parse().ok())?
    };
    let (date, rest) = s.split_at_checked(10)?;
    let mut dp = date.split('-');
    let (y, mo, d) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
    if rest.is_empty() {
        return valid(y, mo, d, 0, 0, 0).then(|| days_from_civil(y, mo, d) * 86_400);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let time = time.split('.').next()?;
    let mut tp = time.split(':');
    let (h, mi) = (num(tp.next()?)?, num(tp.next()?)?);
    let sec = tp.next().map_or(Some(0), num)?;
    let off = match offset {
        "" | "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let o = &o[1..];
            let (oh, om) = o.split_once(':').unwrap_or((o.get(..2)?, o.get(2..)?));
            sign * (num(oh)? * 3600 + num(om)? * 60)
        }
    };
    valid(y, mo, d, h, mi, sec)
        .then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - off)
}

/// RFC 822 / 1123 dates as RSS 2.0 uses them: `Sat, 07 Sep 2002 09:42:31 GMT`
/// (day name optional, 2- or 4-digit year, seconds optional, numeric or named zone).
fn parse_rfc822(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.split_once(',').map_or(s, |(_, r)| r);
    let mut parts = s.split_whitespace();
    let d: i64 = parts.next()?.parse().ok()?;
    let mon = parts.next()?.to_ascii_lowercase();
    let mo = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| mon.starts_with(m))? as i64
        + 1;
    let y: i64 = parts.next()?.parse().ok()?;
    let y = match y {
        0..=49 => 2000 + y,
        50..=99 => 1900 + y,
        y => y,
    };
    let mut tp = parts.next()?.split(':');
    let h: i64 = tp.next()?.parse().ok()?;
    let mi: i64 = tp.next()?.parse().ok()?;
    let sec: i64 = tp.next().map_or(Some(0), |v| v.parse().ok())?;
    let zone = parts.next().unwrap_or("GMT");
    let off = match zone.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        "EST" => -5 * 3600,
        "EDT" => -4 * 3600,
        "CST" => -6 * 3600,
        "CDT" => -5 * 3600,
        "MST" => -7 * 3600,
        "MDT" => -6 * 3600,
        "PST" => -8 * 3600,
        "PDT" => -7 * 3600,
        z if (z.starts_with('+') || z.starts_with('-')) && z.len() == 5 => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let hh: i64 = z[1..3].parse().ok()?;
            let mm: i64 = z[3..5].parse().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
        _ => return None,
    };
    valid(y, mo, d, h, mi, sec)
        .then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - off)
}

weft_sdk::export!(Rss, trigger);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_utc() {
        let t = parse_rfc822("Sat, 07 Sep 2002 09:42:31 GMT").unwrap();
        assert_eq!(rfc3339(t), "2002-09-07T09:42:31Z");
        let t = parse_rfc822("Tue, 10 Jun 2003 04:00:00 -0500").unwrap();
        assert_eq!(rfc3339(t), "2003-06-10T09:00:00Z");
        let t = parse_rfc822("10 Jun 03 04:00 EST").unwrap();
        assert_eq!(rfc3339(t), "2003-06-10T09:00:00Z");
        let t = parse_rfc3339("2003-12-13T18:30:02.25+01:00").unwrap();
        assert_eq!(rfc3339(t), "2003-12-13T17:30:02Z");
        assert_eq!(
            parse_rfc3339("2005-07-31"),
            Some(days_from_civil(2005, 7, 31) * 86_400)
        );
        assert!(parse_rfc822("yesterday").is_none());
        assert!(parse_rfc3339("2003-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn entities_and_cdata_are_text() {
        let feed = parse(
            "<rss version=\"2.0\"><channel><title>A &amp; B &#x263A; &#233;</title>\
             <item><title><![CDATA[<b>bold</b> & co]]></title><guid>g1</guid>\
             <description>x &lt;p&gt; &nbsp;</description></item></channel></rss>",
        )
        .unwrap();
        assert_eq!(feed.title.as_deref(), Some("A & B \u{263A} \u{e9}"));
        assert_eq!(feed.entries[0].title.as_deref(), Some("<b>bold</b> & co"));
        assert_eq!(feed.entries[0].summary.as_deref(), Some("x <p> &nbsp;"));
    }

    #[test]
    fn malformed_documents_say_where() {
        let e = parse("<rss><channel>\n<item><title>x</item></channel></rss>").unwrap_err();
        assert!(e.message.contains("line 2"), "{}", e.message);
        let e = parse("<rss><channel><item>").unwrap_err();
        assert!(e.message.contains("ends inside <item>"), "{}", e.message);
        let e = parse("<html><body/></html>").unwrap_err();
        assert!(e.message.contains("<html>"), "{}", e.message);
    }

    #[test]
    fn long_keys_are_bounded() {
        let e = Entry {
            id: Some("x".repeat(2000)),
            ..Entry::default()
        };
        assert!(e.key().unwrap().len() <= MAX_KEY);
    }
}
