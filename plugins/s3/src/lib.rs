//! `s3`: objects in Amazon S3 or an S3-compatible store (MinIO, Cloudflare R2,
//! Backblaze B2, ...) through the S3 REST API
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/>). Every request names
//! the credential slot `aws`; the HOST signs it with AWS Signature Version 4
//! (the `aws_sigv4` injection), so this connector never holds the secret key.
//!
//! Errors follow S3's documented `<Error><Code>…</Code><Message>…</Message>`
//! body (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>):
//! `AccessDenied`, `SignatureDoesNotMatch`, `InvalidAccessKeyId` → auth;
//! `NoSuchKey`, `NoSuchBucket` → invalid input; `SlowDown` (503) → rate
//! limited; other 5xx → transient; a 301 `PermanentRedirect` (the bucket is in
//! another region, no `Location`) → invalid input naming the endpoint to use.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, ErrorKind, Manifest, Result};

struct S3;

const SLOT: &str = "aws";
const DEFAULT_REGION: &str = "us-east-1";
/// Largest object `get-object` returns unless the input says otherwise.
const DEFAULT_MAX_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    timeout_ms: Option<u32>,
}

/// Where requests go: `scheme://authority`, and whether the bucket is in the
/// path or in the host name.
struct Endpoint {
    scheme: String,
    authority: String,
    path_style: bool,
}

impl Config {
    fn endpoint(&self) -> Result<Endpoint> {
        let region = self.region.as_deref().unwrap_or(DEFAULT_REGION);
        let custom = self.endpoint.is_some();
        let url = match &self.endpoint {
            Some(e) => e.trim_end_matches('/').to_owned(),
            None => {
                if !region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    || region.is_empty()
                {
                    return Err(Error::invalid_input(format!(
                        "config.region: `{region}` is not an AWS region name (e.g. eu-west-1)"
                    )));
                }
                format!("https://s3.{region}.amazonaws.com")
            }
        };
        let bad = || {
            Error::invalid_input(format!(
                "config.endpoint: `{url}` is not `https://host` or `https://host:port` (no path, query or user)"
            ))
        };
        let (scheme, authority) = url.split_once("://").ok_or_else(bad)?;
        if !(scheme == "https" || scheme == "http")
            || authority.is_empty()
            || authority.contains(['/', '?', '#', '@'])
        {
            return Err(bad());
        }
        Ok(Endpoint {
            scheme: scheme.to_owned(),
            authority: authority.to_owned(),
            // AWS: virtual-hosted style; a custom endpoint (MinIO and most
            // self-hosted stores): path style, unless the config says.
            path_style: self.path_style.unwrap_or(custom),
        })
    }
}

impl Endpoint {
    /// The URL of `bucket` and (encoded) `key`, with `query` appended.
    fn url(&self, bucket: &str, key: Option<&str>, query: &[(&str, String)]) -> String {
        let path = key.map(encode_key).unwrap_or_default();
        let mut url = if self.path_style {
            format!("{}://{}/{bucket}/{path}", self.scheme, self.authority)
        } else {
            format!("{}://{bucket}.{}/{path}", self.scheme, self.authority)
        };
        if key.is_none() && self.path_style {
            url.pop();
        }
        let q: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v.as_bytes(), false)))
            .collect();
        if !q.is_empty() {
            url.push('?');
            url.push_str(&q.join("&"));
        }
        url
    }
}

/// AWS's URI encoding: `A-Z a-z 0-9 - _ . ~` as is, `/` kept when
/// `keep_slash`, every other byte `%XX`.
fn encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode_key(key: &str) -> String {
    encode(key.as_bytes(), true)
}

fn check_bucket(bucket: &str) -> Result<()> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-'])
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "input.bucket: `{bucket}` is not a bucket name (3-63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit)"
        )))
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 1024 {
        return Err(Error::invalid_input(
            "input.key: must be 1-1024 bytes of UTF-8",
        ));
    }
    // URLs resolve `.` and `..` segments: the request would reach another key.
    if key.split('/').any(|s| s == "." || s == "..") {
        return Err(Error::invalid_input(format!(
            "input.key: `{key}` has a `.` or `..` segment, which a URL cannot carry unchanged"
        )));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectRef {
    bucket: String,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutObject {
    bucket: String,
    key: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GetObject {
    bucket: String,
    key: String,
    #[serde(default, rename = "as")]
    as_: Option<String>,
    #[serde(default)]
    max_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListObjects {
    bucket: String,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    delimiter: Option<String>,
    #[serde(default)]
    continuation_token: Option<String>,
    #[serde(default)]
    start_after: Option<String>,
    #[serde(default)]
    max_keys: Option<u32>,
}

impl Connector for S3 {
    fn manifest() -> Manifest {
        Manifest::new(
            "s3",
            env!("CARGO_PKG_VERSION"),
            "Objects in Amazon S3 or an S3-compatible store (MinIO, R2, B2), signed by the host with AWS Signature Version 4.",
        )
        .action(
            Action::new("put-object", "Store an object (text or base64 body).")
                .input_schema(put_schema())
                .output_schema(object_out(&["bucket", "key", "size"])),
        )
        .action(
            Action::new(
                "get-object",
                "Read an object: its body as text (text, JSON, XML content types) or base64, up to max_bytes.",
            )
            .input_schema(get_schema())
            .output_schema(object_out(&["bucket", "key", "size", "encoding", "body"])),
        )
        .action(
            Action::new("head-object", "An object's size, type and metadata, or exists: false.")
                .input_schema(ref_schema())
                .output_schema(object_out(&["bucket", "key", "exists"])),
        )
        .action(
            Action::new("list-objects", "One page of a bucket's keys (ListObjectsV2).")
                .input_schema(list_schema())
                .output_schema(object_out(&["items", "common_prefixes", "is_truncated"])),
        )
        .action(
            Action::new("delete-object", "Delete an object (S3 answers the same whether it existed or not).")
                .input_schema(ref_schema())
                .output_schema(object_out(&["bucket", "key", "deleted"])),
        )
        // The endpoint is the tenant's (AWS, R2, B2, their own MinIO): like
        // `http` and `llm`, the manifest allows any host; what a step reaches
        // is the workflow's `grants.hosts`, and the key is sent only to the
        // credential's own hosts.
        .host("*")
        .credential(
            CredentialSlot::new(
                SLOT,
                "An aws_sigv4 credential (access key id, region, service s3; the secret access key sealed) bound to the endpoint's hosts.",
            )
            .host("*"),
        )
        .config_schema(json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "endpoint": {"type": "string", "description": "S3-compatible endpoint, `https://host[:port]`; default `https://s3.<region>.amazonaws.com`."},
                "region": {"type": "string", "default": DEFAULT_REGION, "description": "The AWS region of the default endpoint (the credential's region is the one signed)."},
                "path_style": {"type": "boolean", "description": "Bucket in the path (`https://host/bucket/key`) rather than the host name; default false for AWS, true for a custom endpoint."},
                "timeout_ms": {"type": "integer", "minimum": 1}
            }
        }))
    }

    fn invoke(call: Call) -> Result<Value> {
        let config: Config = call.config()?;
        let endpoint = config.endpoint()?;
        match call.action() {
            "put-object" => put(&config, &endpoint, call.input()?),
            "get-object" => get(&config, &endpoint, call.input()?),
            "head-object" => head(&config, &endpoint, call.input()?),
            "list-objects" => list(&config, &endpoint, call.input()?),
            "delete-object" => {
                let input: ObjectRef = call.input()?;
                check_bucket(&input.bucket)?;
                check_key(&input.key)?;
                let url = endpoint.url(&input.bucket, Some(&input.key), &[]);
                send(&config, Request::delete(url))?;
                Ok(json!({"bucket": input.bucket, "key": input.key, "deleted": true}))
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn put(config: &Config, endpoint: &Endpoint, input: PutObject) -> Result<Value> {
    check_bucket(&input.bucket)?;
    check_key(&input.key)?;
    let body = match (input.body, input.body_base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(b64)) => BASE64.decode(b64.trim()).map_err(|e| {
            Error::invalid_input(format!("input.body_base64: not standard base64 ({e})"))
        })?,
        (None, None) => Vec::new(),
        (Some(_), Some(_)) => {
            return Err(Error::invalid_input(
                "input: give body (text) or body_base64, not both",
            ));
        }
    };
    let size = body.len();
    let mut req = Request::put(endpoint.url(&input.bucket, Some(&input.key), &[])).body(body);
    let content_type = input
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    req = req.header("content-type", content_type);
    for (name, value) in &input.metadata {
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(Error::invalid_input(format!(
                "input.metadata.{name}: names are letters, digits, `-`, `_`; values printable ASCII"
            )));
        }
        req = req.header(format!("x-amz-meta-{}", name.to_ascii_lowercase()), value);
    }
    let response = send(config, req)?;
    Ok(json!({
        "bucket": input.bucket,
        "key": input.key,
        "size": size,
        "etag": response.header("etag"),
        "version_id": response.header("x-amz-version-id"),
    }))
}

fn get(config: &Config, endpoint: &Endpoint, input: GetObject) -> Result<Value> {
    check_bucket(&input.bucket)?;
    check_key(&input.key)?;
    let max = input.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    let as_ = input.as_.as_deref().unwrap_or("auto");
    if !["auto", "text", "base64"].contains(&as_) {
        return Err(Error::invalid_input(format!(
            "input.as: `{as_}` is not one of auto, text, base64"
        )));
    }
    let url = endpoint.url(&input.bucket, Some(&input.key), &[]);
    let response = send(config, Request::get(url))?;
    let size = response.body().len() as u64;
    if size > max {
        return Err(Error::invalid_input(format!(
            "get-object: `{}` is {size} bytes, over max_bytes {max}; raise input.max_bytes (the step's response limit still applies)",
            input.key
        )));
    }
    let content_type = response.header("content-type").map(str::to_owned);
    let texty = content_type.as_deref().is_some_and(is_text);
    let (encoding, body) = match (as_, std::str::from_utf8(response.body())) {
        ("text", Ok(t)) => ("text", t.to_owned()),
        ("text", Err(_)) => {
            return Err(Error::invalid_input(format!(
                "get-object: `{}` is not UTF-8 text; ask for it with as: base64",
                input.key
            )));
        }
        ("auto", Ok(t)) if texty => ("text", t.to_owned()),
        _ => ("base64", BASE64.encode(response.body())),
    };
    let mut out = json!({
        "bucket": input.bucket,
        "key": input.key,
        "size": size,
        "encoding": encoding,
        "body": body,
    });
    add_meta(&mut out, &response);
    Ok(out)
}

fn head(config: &Config, endpoint: &Endpoint, input: ObjectRef) -> Result<Value> {
    check_bucket(&input.bucket)?;
    check_key(&input.key)?;
    let url = endpoint.url(&input.bucket, Some(&input.key), &[]);
    let mut req = Request::new("HEAD", url).credential(SLOT);
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    let response = req.fetch()?;
    // A HEAD answer has no body: a 404 is the object's absence.
    if response.status() == 404 {
        return Ok(json!({"bucket": input.bucket, "key": input.key, "exists": false}));
    }
    let response = check(response)?;
    let mut out = json!({
        "bucket": input.bucket,
        "key": input.key,
        "exists": true,
        "size": response.header("content-length").and_then(|v| v.parse::<u64>().ok()),
    });
    add_meta(&mut out, &response);
    Ok(out)
}

fn add_meta(out: &mut Value, response: &Response) {
    for (field, header) in [
        ("content_type", "content-type"),
        ("etag", "etag"),
        ("last_modified", "last-modified"),
        ("version_id", "x-amz-version-id"),
    ] {
        if let Some(v) = response.header(header) {
            out[field] = json!(v);
        }
    }
    let metadata: Map<String, Value> = response
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            let k = k.to_ascii_lowercase();
            k.strip_prefix("x-amz-meta-")
                .map(|n| (n.to_owned(), json!(v)))
        })
        .collect();
    out["metadata"] = Value::Object(metadata);
}

/// Text, JSON, XML, JavaScript, YAML and CSV content types.
fn is_text(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime.ends_with("/json")
        || mime.ends_with("+json")
        || mime.ends_with("/xml")
        || mime.ends_with("+xml")
        || mime == "application/javascript"
        || mime == "application/yaml"
        || mime == "application/x-ndjson"
}

fn list(config: &Config, endpoint: &Endpoint, input: ListObjects) -> Result<Value> {
    check_bucket(&input.bucket)?;
    let mut query = vec![("list-type", "2".to_owned())];
    if let Some(p) = input.prefix {
        query.push(("prefix", p));
    }
    if let Some(d) = input.delimiter {
        query.push(("delimiter", d));
    }
    if let Some(t) = input.continuation_token {
        query.push(("continuation-token", t));
    }
    if let Some(s) = input.start_after {
        query.push(("start-after", s));
    }
    if let Some(n) = input.max_keys {
        if !(1..=1000).contains(&n) {
            return Err(Error::invalid_input(format!(
                "input.max_keys: {n} is outside S3's 1-1000"
            )));
        }
        query.push(("max-keys", n.to_string()));
    }
    let url = endpoint.url(&input.bucket, None, &query);
    let response = send(config, Request::get(url))?;
    let doc = String::from_utf8_lossy(response.body()).into_owned();
    let root = tree(&doc)?;
    if root.name != "ListBucketResult" {
        return Err(Error::transient(format!(
            "list-objects: S3 answered <{}>, not <ListBucketResult>",
            root.name
        )));
    }
    let items: Vec<Value> = root
        .children_named("Contents")
        .map(|c| {
            json!({
                "key": c.text_of("Key"),
                "size": c.text_of("Size").and_then(|s| s.parse::<u64>().ok()),
                "etag": c.text_of("ETag"),
                "last_modified": c.text_of("LastModified"),
                "storage_class": c.text_of("StorageClass"),
            })
        })
        .collect();
    let prefixes: Vec<Value> = root
        .children_named("CommonPrefixes")
        .filter_map(|c| c.text_of("Prefix"))
        .map(Value::String)
        .collect();
    Ok(json!({
        "items": items,
        "common_prefixes": prefixes,
        "is_truncated": root.text_of("IsTruncated").as_deref() == Some("true"),
        "next_continuation_token": root.text_of("NextContinuationToken"),
        "key_count": root.text_of("KeyCount").and_then(|s| s.parse::<u64>().ok()),
    }))
}

fn send(config: &Config, mut req: Request) -> Result<Response> {
    req = req.credential(SLOT);
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    check(req.fetch()?)
}

/// Any answer but 2xx is an error: S3 answers a bucket in another region with
/// a 301 that has no `Location`, which no client can follow.
fn check(response: Response) -> Result<Response> {
    if (200..300).contains(&response.status()) {
        return Ok(response);
    }
    let problem = problem(&response);
    Err(response.problem_error(problem))
}

/// Reads S3's `<Error>` body (see the module docs).
fn problem(response: &Response) -> Problem {
    let doc = String::from_utf8_lossy(response.body()).into_owned();
    let error = tree(&doc).ok().filter(|e| e.name == "Error");
    let code = error.as_ref().and_then(|e| e.text_of("Code"));
    let mut message = error.as_ref().map(|e| {
        let mut m = match (&code, e.text_of("Message")) {
            (Some(c), Some(msg)) => format!("{c}: {msg}"),
            (Some(c), None) => c.clone(),
            (None, Some(msg)) => msg,
            (None, None) => "S3 error".into(),
        };
        for (label, field) in [
            ("key", "Key"),
            ("bucket", "BucketName"),
            ("endpoint to use", "Endpoint"),
            ("region", "Region"),
            ("request id", "RequestId"),
        ] {
            if let Some(v) = e.text_of(field) {
                m.push_str(&format!("; {label} `{v}`"));
            }
        }
        m
    });
    let status = response.status();
    let kind = match (status, code.as_deref()) {
        (_, Some("SlowDown" | "RequestLimitExceeded" | "TooManyRequests")) => {
            Some(ErrorKind::RateLimited)
        }
        (
            _,
            Some(
                "AccessDenied"
                | "SignatureDoesNotMatch"
                | "InvalidAccessKeyId"
                | "ExpiredToken"
                | "InvalidToken"
                | "AccountProblem",
            ),
        ) => Some(ErrorKind::Auth),
        (_, Some("NoSuchKey" | "NoSuchBucket" | "NoSuchVersion")) => Some(ErrorKind::InvalidInput),
        (_, Some("InternalError" | "ServiceUnavailable" | "RequestTimeout")) => {
            Some(ErrorKind::Transient)
        }
        (300..=399, _) => {
            if message.is_none() {
                message = Some(format!(
                    "S3 answered {status} (the bucket is in another region or needs another endpoint; set config.endpoint/region)"
                ));
            }
            Some(ErrorKind::InvalidInput)
        }
        _ => None,
    };
    Problem {
        message,
        kind,
        retry_after_ms: None,
    }
}

// ---- XML -------------------------------------------------------------------

#[derive(Debug, Default)]
struct El {
    name: String,
    text: String,
    children: Vec<El>,
}

impl El {
    fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn text_of(&self, name: &str) -> Option<String> {
        self.children_named(name)
            .next()
            .map(|c| c.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    }
}

/// Parses an S3 XML answer into its root element (local names: S3 puts its
/// namespace on the root).
fn tree(doc: &str) -> Result<El> {
    let bad =
        |what: String| Error::transient(format!("S3 answered XML that is not well-formed: {what}"));
    let mut reader = Reader::from_str(doc);
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    loop {
        let event = reader.read_event().map_err(|e| bad(e.to_string()))?;
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let el = El {
                    name: s.local_name().into_inner().to_owned(),
                    ..El::default()
                };
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| bad("an end tag with no start".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
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
                            None => return Err(bad(format!("unknown entity `&{name};`"))),
                        }
                    }
                    Err(e) => return Err(bad(e.to_string())),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(bad("it ends inside an element (truncated?)".into()));
    }
    root.ok_or_else(|| bad("no element".into()))
}

// ---- Schemas ---------------------------------------------------------------

fn ref_props() -> Value {
    json!({
        "bucket": {"type": "string", "minLength": 3, "maxLength": 63},
        "key": {"type": "string", "minLength": 1, "maxLength": 1024, "description": "Object key (`/` separates folders)."}
    })
}

fn schema(required: &[&str], extra: Value) -> Value {
    let mut props = ref_props();
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": props})
}

fn ref_schema() -> Value {
    schema(&["bucket", "key"], json!({}))
}

fn put_schema() -> Value {
    schema(
        &["bucket", "key"],
        json!({
            "body": {"type": "string", "description": "The object as text (UTF-8)."},
            "body_base64": {"type": "string", "description": "The object as standard base64 (binary content); instead of body."},
            "content_type": {"type": "string", "default": "application/octet-stream"},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}, "description": "User metadata, sent as x-amz-meta-<name>."}
        }),
    )
}

fn get_schema() -> Value {
    schema(
        &["bucket", "key"],
        json!({
            "as": {"enum": ["auto", "text", "base64"], "default": "auto", "description": "auto: text for text, JSON and XML content types that are UTF-8, base64 otherwise."},
            "max_bytes": {"type": "integer", "minimum": 0, "default": DEFAULT_MAX_BYTES}
        }),
    )
}

fn list_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["bucket"],
        "properties": {
            "bucket": {"type": "string", "minLength": 3, "maxLength": 63},
            "prefix": {"type": "string"},
            "delimiter": {"type": "string", "description": "Usually `/`: keys below the next delimiter are rolled up into common_prefixes."},
            "continuation_token": {"type": "string", "description": "next_continuation_token of the previous page."},
            "start_after": {"type": "string"},
            "max_keys": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1000}
        }
    })
}

fn object_out(required: &[&str]) -> Value {
    json!({"type": "object", "required": required})
}

weft_sdk::export!(S3);
