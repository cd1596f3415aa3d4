//! The `rss` connector, built as a component and run in the real sandbox
//! against a loopback stand-in that serves feeds shaped as the specifications
//! show them:
//! - RSS 2.0: <https://www.rssboard.org/rss-specification> (its sample,
//!   <https://www.rssboard.org/files/sample-rss-2.xml>: `pubDate` in RFC 822,
//!   `guid`, HTML-escaped `description`);
//! - Atom: RFC 4287 <https://www.rfc-editor.org/rfc/rfc4287> §1.1's extensive
//!   example (`id`, `link rel="alternate"`, `published`/`updated` in RFC 3339,
//!   `author/name`, `category term`, `summary`);
//! - HTTP conditional GET (RFC 9110 §13.1.2 `If-None-Match` → 304).
//!
//! The action `read` in the sandbox; the trigger `new-entries` in the sandbox
//! and end to end on a server (one run per entry, none for a seen feed, one for
//! a new entry); a malformed feed, a 404, an oversize feed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_sandbox::{Invocation, PollCall, StepLimits};
use weft_tests::{Received, StandIn, TestApp, TestSandbox, failure, hosts, output, reason};
use weft_types::{ErrorKind, StepContext};

fn rss_item(n: u32, day: u32) -> String {
    format!(
        r#"    <item>
      <title>Story {n} &amp; more</title>
      <link>http://liftoff.msfc.nasa.gov/news/2003/news-{n}.asp</link>
      <description>How do Americans get ready to work with Russians aboard the International Space Station? They take a crash course in culture, language and protocol at Russia's &lt;a href="http://howe.iki.rssi.ru/GCTC/gctc_e.htm"&gt;Star City&lt;/a&gt;.</description>
      <pubDate>Tue, {day:02} Jun 2003 09:39:21 GMT</pubDate>
      <category>space</category>
      <author>editor@example.com (Neil Armstrong)</author>
      <guid>http://liftoff.msfc.nasa.gov/2003/06/{day:02}.html#item{n}</guid>
    </item>
"#
    )
}

/// An RSS 2.0 document, the spec's sample's shape, with these items (newest first).
fn rss(items: &[(u32, u32)]) -> String {
    let items: String = items.iter().map(|&(n, d)| rss_item(n, d)).collect();
    format!(
        r#"<?xml version="1.0"?>
<rss version="2.0">
  <channel>
    <title>Liftoff News</title>
    <link>http://liftoff.msfc.nasa.gov/</link>
    <description>Liftoff to Space Exploration.</description>
    <language>en-us</language>
    <pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>
    <lastBuildDate>Tue, 10 Jun 2003 09:41:01 GMT</lastBuildDate>
    <docs>http://blogs.law.harvard.edu/tech/rss</docs>
    <generator>Weblog Editor 2.0</generator>
{items}  </channel>
</rss>
"#
    )
}

/// RFC 4287 §1.1's extensive example (one entry), plus a second entry with CDATA.
const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">dive into mark</title>
  <subtitle type="html">A &lt;em&gt;lot&lt;/em&gt; of effort went into making this effortless</subtitle>
  <updated>2005-07-31T12:29:29Z</updated>
  <id>tag:example.org,2003:3</id>
  <link rel="alternate" type="text/html" hreflang="en" href="http://example.org/"/>
  <link rel="self" type="application/atom+xml" href="http://example.org/feed.atom"/>
  <rights>Copyright (c) 2003, Mark Pilgrim</rights>
  <generator uri="http://www.example.com/" version="1.0">Example Toolkit</generator>
  <entry>
    <title>Atom draft-07 snapshot</title>
    <link rel="alternate" type="text/html" href="http://example.org/2005/04/02/atom"/>
    <link rel="enclosure" type="audio/mpeg" length="1337" href="http://example.org/audio/ph34r_my_podcast.mp3"/>
    <id>tag:example.org,2003:3.2397</id>
    <updated>2005-07-31T12:29:29Z</updated>
    <published>2003-12-13T08:29:29-04:00</published>
    <author>
      <name>Mark Pilgrim</name>
      <uri>http://example.org/</uri>
      <email>f8dy@example.com</email>
    </author>
    <category term="atom" label="Atom"/>
    <summary type="html"><![CDATA[<p>[Update: The Atom draft is finished.]</p> & more]]></summary>
  </entry>
  <entry>
    <title>Older &#8220;quoted&#8221; entry</title>
    <link href="http://example.org/2003/12/01/older"/>
    <id>tag:example.org,2003:3.2001</id>
    <updated>2003-12-01T10:00:00Z</updated>
  </entry>
</feed>
"#;

/// A feed the test changes while it is served: its body, content type and
/// status; it answers 304 to an `If-None-Match` of its current ETag.
#[derive(Clone)]
struct Feed {
    body: Arc<Mutex<(StatusCode, &'static str, String)>>,
}

impl Feed {
    fn new(status: StatusCode, content_type: &'static str, body: impl Into<String>) -> Self {
        Self {
            body: Arc::new(Mutex::new((status, content_type, body.into()))),
        }
    }

    fn set(&self, body: impl Into<String>) {
        self.body.lock().unwrap().2 = body.into();
    }

    async fn serve(&self) -> (StandIn, weft_tests::Inbox) {
        let me = self.clone();
        StandIn::scripted(move |req: &Received| {
            let (status, ct, body) = me.body.lock().unwrap().clone();
            let etag = format!("\"{:x}\"", body.len() * 31 + body.matches("<item>").count());
            if req.header("if-none-match") == Some(etag.as_str()) {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            (
                status,
                [("content-type", ct), ("etag", etag.as_str())],
                body,
            )
                .into_response()
        })
        .await
    }
}

async fn read(stand_in: &StandIn, limits: StepLimits) -> weft_sandbox::Outcome {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("weft_plugin_rss").await;
    let inv = Invocation {
        grants: hosts(&["127.0.0.1"]),
        limits,
        ..Invocation::new(
            "read",
            json!({"url": stand_in.url("/feed.xml")}).to_string(),
        )
    };
    sandbox.invoke(&plugin, inv).await
}

#[tokio::test]
async fn read_returns_an_rss_2_feed_with_dates_in_rfc_3339() {
    let feed = Feed::new(
        StatusCode::OK,
        "application/rss+xml",
        rss(&[(2, 4), (1, 3)]),
    );
    let (stand_in, inbox) = feed.serve().await;
    let out = read(&stand_in, StepLimits::default()).await;
    let out = output(&out);
    assert_eq!(out["title"], "Liftoff News");
    assert_eq!(out["link"], "http://liftoff.msfc.nasa.gov/");
    let entries = out["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0],
        json!({
            "id": "http://liftoff.msfc.nasa.gov/2003/06/04.html#item2",
            "title": "Story 2 & more",
            "link": "http://liftoff.msfc.nasa.gov/news/2003/news-2.asp",
            "published": "2003-06-04T09:39:21Z",
            "summary": "How do Americans get ready to work with Russians aboard the International Space Station? They take a crash course in culture, language and protocol at Russia's <a href=\"http://howe.iki.rssi.ru/GCTC/gctc_e.htm\">Star City</a>.",
            "author": "editor@example.com (Neil Armstrong)",
            "categories": ["space"],
        })
    );
    let req = inbox.only();
    assert_eq!(
        (req.method.as_str(), req.uri.as_str()),
        ("GET", "/feed.xml")
    );
    assert!(
        req.header("accept")
            .unwrap()
            .contains("application/rss+xml")
    );
}

#[tokio::test]
async fn read_returns_an_atom_feed() {
    let feed = Feed::new(StatusCode::OK, "application/atom+xml", ATOM);
    let (stand_in, _inbox) = feed.serve().await;
    let out = read(&stand_in, StepLimits::default()).await;
    let out = output(&out);
    assert_eq!(out["title"], "dive into mark");
    assert_eq!(
        out["link"], "http://example.org/",
        "the alternate link, not self"
    );
    assert_eq!(
        out["entries"],
        json!([
            {
                "id": "tag:example.org,2003:3.2397",
                "title": "Atom draft-07 snapshot",
                "link": "http://example.org/2005/04/02/atom",
                "published": "2003-12-13T12:29:29Z",
                "summary": "<p>[Update: The Atom draft is finished.]</p> & more",
                "author": "Mark Pilgrim",
                "categories": ["atom"],
            },
            {
                "id": "tag:example.org,2003:3.2001",
                "title": "Older \u{201c}quoted\u{201d} entry",
                "link": "http://example.org/2003/12/01/older",
                "published": "2003-12-01T10:00:00Z",
                "summary": null,
                "author": null,
                "categories": [],
            }
        ])
    );
}

#[tokio::test]
async fn malformed_feeds_and_error_statuses_are_classified() {
    // A mismatched end tag: invalid input, naming the line.
    let broken = "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>\n<item><title>x</item>\n</channel></rss>";
    let feed = Feed::new(StatusCode::OK, "application/rss+xml", broken);
    let (stand_in, _inbox) = feed.serve().await;
    let out = read(&stand_in, StepLimits::default()).await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput, "{f:?}");
    assert!(
        f.message.contains("not well-formed XML at line 3"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("/feed.xml"),
        "names the feed: {}",
        f.message
    );

    // Truncated.
    feed.set("<rss version=\"2.0\"><channel><title>t</title><item>");
    let f = failure(&read(&stand_in, StepLimits::default()).await).clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(f.message.contains("ends inside <item>"), "{}", f.message);

    // An HTML page where the feed should be.
    feed.set("<html><body><p>hello</p></body></html>");
    let f = failure(&read(&stand_in, StepLimits::default()).await).clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.contains("root element is <html>"),
        "{}",
        f.message
    );

    // 404: classified as the SDK's error_for_status does (other 4xx: invalid input).
    let gone = Feed::new(StatusCode::NOT_FOUND, "text/plain", "no such feed");
    let (stand_in, _inbox) = gone.serve().await;
    let f = failure(&read(&stand_in, StepLimits::default()).await).clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput, "{f:?}");
    assert!(f.message.contains("404"), "{}", f.message);
    // 503: transient.
    let down = Feed::new(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "down");
    let (stand_in, _inbox) = down.serve().await;
    let f = failure(&read(&stand_in, StepLimits::default()).await).clone();
    assert_eq!(f.kind, ErrorKind::Transient, "{f:?}");
}

#[tokio::test]
async fn an_oversize_feed_is_refused_by_the_response_limit() {
    let items: Vec<(u32, u32)> = (0..200).map(|n| (n, 1 + n % 28)).collect();
    let body = rss(&items);
    assert!(body.len() > 64 << 10);
    let feed = Feed::new(StatusCode::OK, "application/rss+xml", body);
    let (stand_in, _inbox) = feed.serve().await;
    let limits = StepLimits {
        response_bytes: 64 << 10,
        ..StepLimits::default()
    };
    let out = read(&stand_in, limits).await;
    assert_eq!(reason(&out), "response_too_large", "{:?}", out.result);
    // The same feed within the default limit reads.
    let out = read(&stand_in, StepLimits::default()).await;
    assert_eq!(output(&out)["entries"].as_array().unwrap().len(), 200);
}

/// The trigger in the sandbox: items oldest first keyed by guid/id, a cursor
/// that sends the ETag back (304: no items, cursor kept) and skips entries
/// older than the newest seen.
#[tokio::test]
async fn the_new_entries_trigger_in_the_sandbox() {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("weft_plugin_rss").await;
    let t = plugin.manifest().trigger("new-entries").expect("declared");
    assert_eq!(t.config_schema["required"][0], "url");
    let feed = Feed::new(StatusCode::OK, "application/atom+xml", ATOM);
    let (stand_in, inbox) = feed.serve().await;
    let call = |cursor: Option<String>| PollCall {
        trigger: "new-entries".into(),
        config: json!({"url": stand_in.url("/atom")}).to_string(),
        cursor,
        context: StepContext::adhoc("poll"),
        grants: hosts(&["127.0.0.1"]),
        limits: StepLimits::default(),
        cancel: None,
    };
    let first = sandbox.poll(&plugin, call(None)).await.result.unwrap();
    let keys: Vec<&str> = first.items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["tag:example.org,2003:3.2001", "tag:example.org,2003:3.2397"],
        "oldest first"
    );
    assert_eq!(first.items[1].1["title"], "Atom draft-07 snapshot");
    let cursor = first.next_cursor.clone().expect("a cursor");
    let c: Value = serde_json::from_str(&cursor).unwrap();
    assert_eq!(c["newest"], 1_071_318_569, "2003-12-13T12:29:29Z: {c}");
    assert!(c["etag"].is_string(), "{c}");

    // Unchanged: the ETag comes back, 304, nothing, the cursor kept.
    let again = sandbox
        .poll(&plugin, call(Some(cursor.clone())))
        .await
        .result
        .unwrap();
    assert!(again.items.is_empty());
    assert_eq!(again.next_cursor.as_deref(), Some(cursor.as_str()));
    assert!(inbox.all()[1].header("if-none-match").is_some());

    // Changed: a new entry (and the ETag changes); the entry older than the
    // newest seen is skipped by the cursor, the one dated the same is left
    // to the host's seen keys.
    feed.set(ATOM.replace(
        "  <entry>\n    <title>Atom draft-07",
        "  <entry><id>urn:new</id><title>New</title><updated>2006-01-01T00:00:00Z</updated></entry>\n  <entry>\n    <title>Atom draft-07",
    ));
    let third = sandbox
        .poll(&plugin, call(Some(cursor)))
        .await
        .result
        .unwrap();
    let keys: Vec<&str> = third.items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["tag:example.org,2003:3.2397", "urn:new"]);
    assert_eq!(third.items[1].1["link"], Value::Null);
    let c: Value = serde_json::from_str(third.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c["newest"], 1_136_073_600, "2006-01-01T00:00:00Z: {c}");

    // An entry dated far ahead (a wrong clock) is offered but does not become
    // the cursor's newest date, which would hide every later entry.
    feed.set(ATOM.replace(
        "  <entry>\n    <title>Atom draft-07",
        "  <entry><id>urn:future</id><title>F</title><updated>2999-01-01T00:00:00Z</updated></entry>\n  <entry>\n    <title>Atom draft-07",
    ));
    let fourth = sandbox.poll(&plugin, call(None)).await.result.unwrap();
    assert_eq!(fourth.items.last().unwrap().0, "urn:future");
    let c: Value = serde_json::from_str(fourth.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c["newest"], 1_071_318_569, "{c}");
}

fn workflow(url: &str) -> Value {
    json!({
        "name": "rss entries",
        "grants": {"hosts": ["127.0.0.1"]},
        "triggers": {"poll": {
            "connector": "rss", "trigger": "new-entries", "interval_ms": 1000,
            "config": {"url": url}
        }},
        "steps": [
            {"id": "echo", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ".", "data": "{{ trigger.body }}"}}
        ]
    })
}

async fn poll_runs(app: &TestApp, wf: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/v1/runs?workflow_id={wf}&trigger=poll&limit=100"))
        .await
        .expect(200);
    let mut items = page["items"].as_array().cloned().unwrap_or_default();
    items.reverse();
    items
}

async fn until_runs(app: &TestApp, wf: &str, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let runs = poll_runs(app, wf).await;
        if runs.len() >= n {
            return runs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the poll runs never got to {n}: {runs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn polled(inbox: &weft_tests::Inbox, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while inbox.len() < n {
        assert!(tokio::time::Instant::now() < deadline, "no poll came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn body_of(app: &TestApp, run: &Value) -> Value {
    let run = app.finished(run["id"].as_str().unwrap()).await;
    assert_eq!(run.status, weft_types::Status::Completed, "{run:#?}");
    run.input["body"].clone()
}

#[tokio::test]
async fn a_polled_feed_starts_one_run_per_new_entry() {
    let feed = Feed::new(
        StatusCode::OK,
        "application/rss+xml",
        rss(&[(2, 4), (1, 3)]),
    );
    let (stand_in, inbox) = feed.serve().await;
    let app = TestApp::builder().plugin("weft_plugin_rss").start().await;
    let wf = app.workflow(workflow(&stand_in.url("/rss"))).await;

    let runs = until_runs(&app, &wf.id, 2).await;
    assert_eq!(runs.len(), 2, "{runs:#?}");
    // Runs created by one poll share a commit: compare them as a set.
    let mut bodies = [body_of(&app, &runs[0]).await, body_of(&app, &runs[1]).await];
    bodies.sort_by_key(|b| b["published"].as_str().unwrap().to_owned());
    assert_eq!(
        bodies[0]["id"],
        "http://liftoff.msfc.nasa.gov/2003/06/03.html#item1"
    );
    assert_eq!(bodies[0]["published"], "2003-06-03T09:39:21Z");
    assert_eq!(bodies[1]["title"], "Story 2 & more");

    // The same feed, polled twice more: no run (the ETag comes back).
    let seen = inbox.len();
    polled(&inbox, seen + 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        poll_runs(&app, &wf.id).await.len(),
        2,
        "a seen feed starts none"
    );
    assert!(inbox.all()[seen].header("if-none-match").is_some());

    // A new entry on top: one more run, with it as the body.
    feed.set(rss(&[(3, 5), (2, 4), (1, 3)]));
    let runs = until_runs(&app, &wf.id, 3).await;
    assert_eq!(body_of(&app, &runs[2]).await["title"], "Story 3 & more");
    let seen = inbox.len();
    polled(&inbox, seen + 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(poll_runs(&app, &wf.id).await.len(), 3);
}

/// A poll hands over at most 1000 entries: the first 1000 of the feed (its
/// newest), oldest first; a malformed feed fails the poll as invalid input.
#[tokio::test]
async fn a_poll_takes_the_newest_1000_entries_and_refuses_a_malformed_feed() {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("weft_plugin_rss").await;
    let items: Vec<(u32, u32)> = (0..1200).rev().map(|n| (n, 1 + n % 28)).collect();
    let feed = Feed::new(StatusCode::OK, "application/rss+xml", rss(&items));
    let (stand_in, _inbox) = feed.serve().await;
    let call = || PollCall {
        trigger: "new-entries".into(),
        config: json!({"url": stand_in.url("/big")}).to_string(),
        cursor: None,
        context: StepContext::adhoc("poll"),
        grants: hosts(&["127.0.0.1"]),
        limits: StepLimits::default(),
        cancel: None,
    };
    let polled = sandbox.poll(&plugin, call()).await.result.unwrap();
    assert_eq!(polled.items.len(), 1000);
    assert!(
        polled.items[0].0.ends_with("#item200"),
        "{}",
        polled.items[0].0
    );
    assert!(
        polled.items[999].0.ends_with("#item1199"),
        "{}",
        polled.items[999].0
    );

    feed.set("<rss version=\"2.0\"><channel><item><title>a</titel></item></channel></rss>");
    let f = sandbox.poll(&plugin, call()).await.result.unwrap_err();
    assert_eq!(f.kind, ErrorKind::InvalidInput, "{f:?}");
    assert!(
        f.message.contains("not well-formed XML at line 1"),
        "{}",
        f.message
    );
}

/// A feed that answers 404 shows on the workflow as a failing poll, and
/// starts no run.
#[tokio::test]
async fn a_missing_feed_shows_as_a_failing_poll() {
    let gone = Feed::new(StatusCode::NOT_FOUND, "text/plain", "no such feed");
    let (stand_in, _inbox) = gone.serve().await;
    let app = TestApp::builder().plugin("weft_plugin_rss").start().await;
    let wf = app.workflow(workflow(&stand_in.url("/gone.xml"))).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let poll = loop {
        let w = app
            .get(&format!("/v1/workflows/{}", wf.id))
            .await
            .expect(200);
        if w["poll"]["consecutive_failures"].as_u64() >= Some(1) {
            break w["poll"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed poll: {}",
            w["poll"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let error = poll["last_error"].as_str().unwrap();
    assert!(
        error.contains("404") && error.contains("/gone.xml"),
        "{error}"
    );
    assert!(poll_runs(&app, &wf.id).await.is_empty());
}
