//! `gmail`: send, list and read mail through the Gmail API v1
//! (<https://developers.google.com/gmail/api/reference/rest/v1/users.messages>),
//! with the `google` OAuth2 credential the host injects as a bearer for
//! `gmail.googleapis.com` (scopes: `https://www.googleapis.com/auth/gmail.send`
//! to send, `https://www.googleapis.com/auth/gmail.readonly` to list, read and
//! poll). Errors: `weft_google_api::problem`.
//!
//! `send` builds the RFC 5322 message here: To/Cc/Bcc/Subject, a text and/or
//! HTML body (both: multipart/alternative), UTF-8 bodies in base64, a
//! non-ASCII subject as RFC 2047 encoded-words; a CR or LF in any header field
//! is `invalid-input` (no header injection). Gmail takes it base64url in `raw`.
//!
//! Trigger `new-messages`: the messages matching a query, keyed by message id.
//! The cursor is the newest `internalDate` seen (ms) and the ids seen at that
//! millisecond, not a `historyId`:
//! `users.history.list` cannot filter by a search query, reports label and
//! deletion changes as well as arrivals, and its ids expire (a 404 means a
//! full resync), while `after:<seconds>` narrows any query. The first poll only
//! sets the cursor (a mailbox's past is not new mail).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_google_api::Config;
use weft_sdk::http::Request;
use weft_sdk::{
    Action, Call, Connector, Error, Manifest, Poll, PollItem, PollResult, Result, Trigger,
    TriggerDef,
};

struct Gmail;

const HOST: &str = "gmail.googleapis.com";
const DEFAULT_BASE_URL: &str = "https://gmail.googleapis.com";
const SCOPES: &str = "https://www.googleapis.com/auth/gmail.send (send) and https://www.googleapis.com/auth/gmail.readonly (list, get, new-messages)";
/// Messages fetched per poll at most.
const MAX_ITEMS: usize = 100;
/// Bodies are base64 in lines of 76 (RFC 2045, 6.8).
const LINE: usize = 76;
/// Cannot occur in a base64 body (`_` is not in its alphabet) or a header.
const BOUNDARY: &str = "=_weft_alternative_0";

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Addresses {
    One(String),
    Many(Vec<String>),
}

impl Addresses {
    fn list(&self) -> Vec<&str> {
        match self {
            Self::One(s) => vec![s.as_str()],
            Self::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Send {
    to: Addresses,
    #[serde(default)]
    cc: Option<Addresses>,
    #[serde(default)]
    bcc: Option<Addresses>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    reply_to: Option<String>,
    subject: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    thread_id: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct List {
    q: Option<String>,
    label_ids: Vec<String>,
    page_token: Option<String>,
    max_results: Option<u32>,
    include_spam_trash: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Get {
    id: String,
    #[serde(default)]
    format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PollConfig {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    label_ids: Vec<String>,
    #[serde(default)]
    base_url: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Cursor {
    /// The newest `internalDate` seen, ms since the epoch.
    newest: i64,
    /// The ids of the messages seen with that `internalDate` (the first poll
    /// reports none, so the host's seen keys do not hold them).
    ids: Vec<String>,
}

impl Connector for Gmail {
    fn manifest() -> Manifest {
        Manifest::new(
            "gmail",
            env!("CARGO_PKG_VERSION"),
            "Gmail: send mail, list and read messages; start a run per new message.",
        )
        .action(
            Action::new("send", "Send a message (text and/or HTML) as the authorized user.")
                .input_schema(send_schema())
                .output_schema(json!({"type": "object", "required": ["id", "threadId"]})),
        )
        .action(
            Action::new("list-messages", "One page of message ids matching a search query.")
                .input_schema(list_schema())
                .output_schema(json!({
                    "type": "object", "required": ["messages"],
                    "properties": {
                        "messages": {"type": "array", "items": {"type": "object", "required": ["id", "threadId"]}},
                        "nextPageToken": {"type": "string", "description": "Pass as `page_token` for the next page."},
                        "resultSizeEstimate": {"type": "integer"}
                    }
                })),
        )
        .action(
            Action::new("get-message", "A message: its headers and decoded text and HTML bodies.")
                .input_schema(json!({
                    "type": "object", "additionalProperties": false, "required": ["id"],
                    "properties": {
                        "id": {"type": "string", "minLength": 1},
                        "format": {"enum": ["full", "metadata"], "default": "full", "description": "metadata: headers only."}
                    }
                }))
                .output_schema(message_schema()),
        )
        .host(HOST)
        .credential(weft_google_api::slot(HOST, SCOPES))
        .config_schema(weft_google_api::config_schema(DEFAULT_BASE_URL))
    }

    fn invoke(call: Call) -> Result<Value> {
        let config: Config = call.config()?;
        match call.action() {
            "send" => {
                let input: Send = call.input()?;
                let raw = URL_SAFE.encode(message(&input)?);
                let mut body = json!({"raw": raw});
                if let Some(t) = &input.thread_id {
                    body["threadId"] = json!(t);
                }
                let url = config.url(DEFAULT_BASE_URL, "/gmail/v1/users/me/messages/send");
                config.send(Request::new("POST", url).json(&body))?.json()
            }
            "list-messages" => list(&config, &call.input()?),
            "get-message" => {
                let input: Get = call.input()?;
                let format = input.format.as_deref().unwrap_or("full");
                if !["full", "metadata"].contains(&format) {
                    return Err(Error::invalid_input(format!(
                        "input.format: `{format}` is not one of full, metadata"
                    )));
                }
                get(&config, &input.id, format)
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

impl Trigger for Gmail {
    fn triggers() -> Vec<TriggerDef> {
        vec![
            TriggerDef::new(
                "new-messages",
                "Start a run for every new message matching a search query.",
            )
            .config_schema(json!({
                "type": "object", "additionalProperties": false,
                "properties": {
                    "q": {"type": "string", "description": "Gmail search, e.g. `from:billing@example.com has:attachment`."},
                    "label_ids": {"type": "array", "items": {"type": "string"}, "description": "Only messages with all these labels (e.g. INBOX)."},
                    "base_url": {"type": "string", "default": DEFAULT_BASE_URL}
                }
            }))
            .item_schema(message_schema()),
        ]
    }

    fn poll(poll: Poll) -> Result<PollResult> {
        if poll.trigger() != "new-messages" {
            return Err(Error::invalid_input(format!(
                "the gmail connector has no trigger `{}` (it has: new-messages)",
                poll.trigger()
            )));
        }
        let c: PollConfig = poll.config()?;
        let config = Config {
            base_url: c.base_url.clone(),
            timeout_ms: None,
        };
        let cursor: Option<Cursor> = poll.cursor().and_then(|s| serde_json::from_str(s).ok());
        let mut q = c.q.clone().unwrap_or_default();
        if let Some(cur) = &cursor {
            // `after:` takes seconds and is exclusive: one second earlier, and
            // the messages of that second already seen are dropped below.
            q = format!("{q} after:{}", (cur.newest / 1000 - 1).max(0))
                .trim()
                .to_owned();
        }
        let mut ids = Vec::new();
        let mut page_token = None;
        loop {
            let page = list(
                &config,
                &List {
                    q: (!q.is_empty()).then(|| q.clone()),
                    label_ids: c.label_ids.clone(),
                    page_token: page_token.take(),
                    max_results: Some(if cursor.is_some() { 100 } else { 1 }),
                    include_spam_trash: false,
                },
            )?;
            for m in page["messages"].as_array().into_iter().flatten() {
                if let Some(id) = m["id"].as_str() {
                    ids.push(id.to_owned());
                }
            }
            page_token = page["nextPageToken"].as_str().map(str::to_owned);
            if cursor.is_none() || page_token.is_none() || ids.len() >= MAX_ITEMS {
                break;
            }
        }
        ids.truncate(MAX_ITEMS);
        let mut messages = Vec::new();
        for id in &ids {
            let format = if cursor.is_some() { "full" } else { "metadata" };
            messages.push(get(&config, id, format)?);
        }
        let date = |m: &Value| m["internalDate"].as_i64().unwrap_or(0);
        let id = |m: &Value| m["id"].as_str().unwrap_or_default().to_owned();
        let (seen, seen_ids) = cursor
            .as_ref()
            .map_or((0, Vec::new()), |c| (c.newest, c.ids.clone()));
        let newest = messages.iter().map(date).fold(seen, i64::max);
        let mut ids: Vec<String> = messages
            .iter()
            .filter(|m| date(m) == newest)
            .map(id)
            .collect();
        if newest == seen {
            for i in &seen_ids {
                if !ids.contains(i) {
                    ids.push(i.clone());
                }
            }
        }
        let mut items: Vec<(i64, PollItem)> = Vec::new();
        if cursor.is_some() {
            for m in messages {
                // Older than the newest of an earlier poll, or of its
                // millisecond and seen then: not new.
                let d = date(&m);
                if d < seen || (d == seen && seen_ids.contains(&id(&m))) {
                    continue;
                }
                items.push((d, PollItem::new(id(&m), m)));
            }
        }
        items.sort_by_key(|(d, _)| *d);
        Ok(PollResult {
            items: items.into_iter().map(|(_, i)| i).collect(),
            next_cursor: Some(
                serde_json::to_string(&Cursor { newest, ids })
                    .map_err(|e| Error::permanent(e.to_string()))?,
            ),
        })
    }
}

fn list(config: &Config, input: &List) -> Result<Value> {
    let mut req = Request::get(config.url(DEFAULT_BASE_URL, "/gmail/v1/users/me/messages"));
    if let Some(q) = &input.q {
        req = req.query("q", q);
    }
    for l in &input.label_ids {
        req = req.query("labelIds", l);
    }
    if let Some(t) = &input.page_token {
        req = req.query("pageToken", t);
    }
    if let Some(n) = input.max_results {
        if !(1..=500).contains(&n) {
            return Err(Error::invalid_input(format!(
                "input.max_results: {n} is outside Gmail's 1-500"
            )));
        }
        req = req.query("maxResults", n.to_string());
    }
    if input.include_spam_trash {
        req = req.query("includeSpamTrash", "true");
    }
    let mut page: Value = config.send(req)?.json()?;
    // An empty result has no `messages` at all.
    if page.get("messages").is_none() {
        page["messages"] = json!([]);
    }
    Ok(page)
}

fn get(config: &Config, id: &str, format: &str) -> Result<Value> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid_input(format!(
            "input.id: `{id}` is not a Gmail message id (letters and digits)"
        )));
    }
    let url = config.url(
        DEFAULT_BASE_URL,
        &format!("/gmail/v1/users/me/messages/{id}"),
    );
    let m: Value = config
        .send(Request::get(url).query("format", format))?
        .json()?;
    Ok(decode_message(&m))
}

/// The API's message as the connector's: headers by lower-case name, the
/// text and HTML bodies decoded.
fn decode_message(m: &Value) -> Value {
    let mut headers = serde_json::Map::new();
    for h in m["payload"]["headers"].as_array().into_iter().flatten() {
        if let (Some(n), Some(v)) = (h["name"].as_str(), h["value"].as_str()) {
            headers
                .entry(n.to_ascii_lowercase())
                .or_insert_with(|| json!(v));
        }
    }
    let mut text = None;
    let mut html = None;
    bodies(&m["payload"], &mut text, &mut html);
    json!({
        "id": m["id"], "threadId": m["threadId"],
        "labelIds": m.get("labelIds").cloned().unwrap_or(json!([])),
        "snippet": m["snippet"],
        "internalDate": m["internalDate"].as_str().and_then(|s| s.parse::<i64>().ok()),
        "headers": headers, "text": text, "html": html,
    })
}

/// The first text/plain and text/html bodies in the MIME tree.
fn bodies(part: &Value, text: &mut Option<String>, html: &mut Option<String>) {
    let slot = match part["mimeType"].as_str() {
        Some("text/plain") => Some(&mut *text),
        Some("text/html") => Some(&mut *html),
        _ => None,
    };
    if let Some(slot) = slot
        && slot.is_none()
        && let Some(data) = part["body"]["data"].as_str()
    {
        let bytes = URL_SAFE_NO_PAD
            .decode(data.trim_end_matches('='))
            .unwrap_or_default();
        *slot = Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    for p in part["parts"].as_array().into_iter().flatten() {
        bodies(p, text, html);
    }
}

/// Refuses a header value that could start another header.
fn header_value<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    if value.contains(['\r', '\n']) {
        return Err(Error::invalid_input(format!(
            "input.{field}: a line break is not allowed in a mail header"
        )));
    }
    Ok(value)
}

fn addresses(field: &str, a: &Addresses) -> Result<String> {
    let list = a.list();
    for v in &list {
        header_value(field, v)?;
        if !v.contains('@') {
            return Err(Error::invalid_input(format!(
                "input.{field}: `{v}` is not an email address"
            )));
        }
        if !v.is_ascii() {
            return Err(Error::invalid_input(format!(
                "input.{field}: `{v}`: write non-ASCII names and addresses as ASCII (an address with a display name in non-ASCII is not supported)"
            )));
        }
    }
    Ok(list.join(", "))
}

/// `subject` as is when printable ASCII, else RFC 2047 encoded-words of at
/// most 75 characters (45 bytes of UTF-8 each, split on char boundaries),
/// folded onto continuation lines.
fn encode_subject(subject: &str) -> String {
    if subject.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return subject.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for ch in subject.chars() {
        if chunk.len() + ch.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(ch);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", STANDARD.encode(w)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn base64_lines(s: &str) -> String {
    let b = STANDARD.encode(s);
    let mut out = String::new();
    for (i, chunk) in b.as_bytes().chunks(LINE).enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    out
}

fn part(mime: &str, body: &str) -> String {
    format!(
        "Content-Type: {mime}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        base64_lines(body)
    )
}

/// The RFC 5322 message.
fn message(input: &Send) -> Result<String> {
    let mut head = format!("To: {}\r\n", addresses("to", &input.to)?);
    if input.to.list().is_empty() {
        return Err(Error::invalid_input("input.to: at least one recipient"));
    }
    for (field, value) in [("cc", &input.cc), ("bcc", &input.bcc)] {
        if let Some(a) = value {
            let name = if field == "cc" { "Cc" } else { "Bcc" };
            head.push_str(&format!("{name}: {}\r\n", addresses(field, a)?));
        }
    }
    if let Some(f) = &input.from {
        head.push_str(&format!(
            "From: {}\r\n",
            addresses("from", &Addresses::One(f.clone()))?
        ));
    }
    if let Some(r) = &input.reply_to {
        head.push_str(&format!(
            "Reply-To: {}\r\n",
            addresses("reply_to", &Addresses::One(r.clone()))?
        ));
    }
    head.push_str(&format!(
        "Subject: {}\r\nMIME-Version: 1.0\r\n",
        encode_subject(header_value("subject", &input.subject)?)
    ));
    let body = match (&input.text, &input.html) {
        (None, None) => {
            return Err(Error::invalid_input(
                "input: give `text`, `html` or both (the message's body)",
            ));
        }
        (Some(t), None) => part("text/plain", t),
        (None, Some(h)) => part("text/html", h),
        (Some(t), Some(h)) => format!(
            "Content-Type: multipart/alternative; boundary=\"{BOUNDARY}\"\r\n\r\n--{BOUNDARY}\r\n{}--{BOUNDARY}\r\n{}--{BOUNDARY}--\r\n",
            part("text/plain", t),
            part("text/html", h)
        ),
    };
    Ok(format!("{head}{body}"))
}

fn send_schema() -> Value {
    let addrs = json!({"oneOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1}
    ], "description": "An address (`a@example.com` or `Name <a@example.com>`) or a list."});
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["to", "subject"],
        "properties": {
            "to": addrs, "cc": addrs, "bcc": addrs,
            "from": {"type": "string", "description": "A send-as alias of the user; the user's address when absent."},
            "reply_to": {"type": "string"},
            "subject": {"type": "string", "description": "Any Unicode (sent as RFC 2047 encoded-words)."},
            "text": {"type": "string", "description": "The plain-text body."},
            "html": {"type": "string", "description": "The HTML body (with `text`: multipart/alternative)."},
            "thread_id": {"type": "string", "description": "Add to this thread (the subject must match)."}
        }
    })
}

fn list_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "q": {"type": "string", "description": "Gmail search, e.g. `is:unread from:alerts@example.com`."},
            "label_ids": {"type": "array", "items": {"type": "string"}},
            "page_token": {"type": "string"},
            "max_results": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
            "include_spam_trash": {"type": "boolean", "default": false}
        }
    })
}

fn message_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "threadId", "labelIds", "headers", "text", "html"],
        "properties": {
            "id": {"type": "string"}, "threadId": {"type": "string"},
            "labelIds": {"type": "array", "items": {"type": "string"}},
            "snippet": {"type": ["string", "null"]},
            "internalDate": {"type": ["integer", "null"], "description": "Received, ms since the epoch."},
            "headers": {"type": "object", "description": "By lower-case name (the first of each): subject, from, to, date, ..."},
            "text": {"type": ["string", "null"], "description": "The text/plain body, decoded."},
            "html": {"type": ["string", "null"], "description": "The text/html body, decoded."}
        }
    })
}

weft_sdk::export!(Gmail, trigger);

#[cfg(test)]
mod tests {
    use super::*;

    fn send(v: Value) -> Send {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_long_non_ascii_subject_is_folded_encoded_words() {
        let s = encode_subject(&"Grüße ".repeat(20));
        for word in s.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            assert!(word.starts_with("=?UTF-8?B?") && word.ends_with("?="));
        }
        let decoded: String = s
            .split("\r\n ")
            .map(|w| String::from_utf8(STANDARD.decode(&w[10..w.len() - 2]).unwrap()).unwrap())
            .collect();
        assert_eq!(decoded, "Grüße ".repeat(20));
    }

    #[test]
    fn line_breaks_in_headers_are_refused() {
        for field in ["to", "cc", "bcc", "subject", "from", "reply_to"] {
            let mut v = json!({"to": "a@example.com", "subject": "s", "text": "t"});
            v[field] = json!("x@example.com\r\nBcc: evil@example.com");
            let e = message(&send(v)).unwrap_err();
            assert!(e.message.starts_with(&format!("input.{field}: ")), "{e}");
        }
    }
}
