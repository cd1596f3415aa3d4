//! The web console's files and how they are served (`docs/CONSOLE.md`).
//!
//! The console is a single-page application built by `console/` (`npm run
//! build`): an `index.html`, hashed files under `assets/`, and a `.br` and a
//! `.gz` beside each compressible file. The build script embeds that folder
//! into the binary; [`Console::from_dir`] reads one from disk instead (the
//! `console_dir` setting, for people working on the console).
//!
//! [`Console::respond`] answers a `GET` or `HEAD`:
//! - a file by its path; a path that names no file and has no extension
//!   (`/runs/run_1`) gets `index.html`, so the console's own router finds it;
//! - hashed files under `assets/` are cached for a year (`immutable`), every
//!   other file revalidated (`no-cache`, with an `ETag`);
//! - the precompressed variant the client accepts (brotli, then gzip);
//! - always the [`CSP`] and the other headers that keep the page from being
//!   framed, sniffed or leaking its address.
//!
//! ```
//! use weft_console::Console;
//! let console = Console::from_files([("index.html", &b"<!doctype html>"[..])]).unwrap();
//! let answer = console
//!     .respond(&http::Method::GET, "/workflows", &http::HeaderMap::new())
//!     .unwrap();
//! assert_eq!(answer.status(), 200);
//! assert_eq!(answer.headers()["cache-control"], "no-cache");
//! ```

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// The Content-Security-Policy of every console response: scripts, styles,
/// images, fonts and API calls from this origin only; no plugins, no
/// `<base>`, never framed. Inline styles are allowed (the graph editor
/// positions nodes with style attributes); inline scripts are not.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// How long a hashed asset may be cached: a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The files embedded at build time: (path, bytes).
static EMBEDDED: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/files.rs"));

/// The console's files, ready to serve.
#[derive(Debug)]
pub struct Console {
    files: HashMap<String, Asset>,
}

#[derive(Debug)]
struct Asset {
    body: Bytes,
    br: Option<Bytes>,
    gz: Option<Bytes>,
    etag: HeaderValue,
    content_type: &'static str,
    immutable: bool,
}

impl Console {
    /// The console built into this binary; `None` when it was built without
    /// one (`console/` not built first, as in `cargo test`).
    pub fn embedded() -> Option<Self> {
        Self::from_files(EMBEDDED.iter().map(|(p, b)| (*p, *b)))
    }

    /// A console read from a built folder. Fails when the folder cannot be
    /// read or has no `index.html`.
    pub fn from_dir(dir: &Path) -> std::io::Result<Self> {
        let mut files = Vec::new();
        read_dir(dir, dir, &mut files)?;
        Self::from_files(files.iter().map(|(p, b)| (p.as_str(), b.as_slice()))).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{} has no index.html (build the console: scripts/console)",
                    dir.display()
                ),
            )
        })
    }

    /// A console of these files (path relative to the root, with `/`);
    /// `None` without an `index.html`.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Option<Self> {
        let raw: HashMap<&str, &[u8]> = files.into_iter().collect();
        raw.get("index.html")?;
        let mut out = HashMap::new();
        for (path, body) in &raw {
            if path.ends_with(".br") || path.ends_with(".gz") {
                continue;
            }
            let variant = |ext: &str| {
                raw.get(format!("{path}.{ext}").as_str())
                    .map(|b| Bytes::copy_from_slice(b))
            };
            let digest = Sha256::digest(body);
            let etag = format!("\"{}\"", hex::encode(&digest[..12]));
            out.insert(
                (*path).to_owned(),
                Asset {
                    body: Bytes::copy_from_slice(body),
                    br: variant("br"),
                    gz: variant("gz"),
                    etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
                    content_type: content_type(path),
                    immutable: path.starts_with("assets/"),
                },
            );
        }
        Some(Self { files: out })
    }

    /// How many files it serves (not counting compressed variants).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether it serves no file (never: `index.html` is required).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The answer to a request for `path`; `None` when the method is not
    /// `GET` or `HEAD` (the caller answers as it would without a console).
    pub fn respond(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<Response<Bytes>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let rel = path.trim_start_matches('/');
        let found = if rel.is_empty() {
            self.files.get("index.html")
        } else if rel
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            None
        } else {
            self.files.get(rel).or_else(|| {
                // A console route (no extension in its last segment) is the
                // application's to resolve; a missing file is a 404.
                let last = rel.rsplit('/').next().unwrap_or(rel);
                (!last.contains('.') && !rel.starts_with("assets/"))
                    .then(|| self.files.get("index.html"))
                    .flatten()
            })
        };
        let mut answer = match found {
            Some(asset) => asset.respond(method, headers),
            None => plain(StatusCode::NOT_FOUND, "not found\n"),
        };
        secure(answer.headers_mut());
        Some(answer)
    }
}

impl Asset {
    fn respond(&self, method: &Method, headers: &HeaderMap) -> Response<Bytes> {
        let mut out = Response::new(Bytes::new());
        let h = out.headers_mut();
        h.insert(header::ETAG, self.etag.clone());
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if self.immutable {
                IMMUTABLE
            } else {
                "no-cache"
            }),
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if self.br.is_some() || self.gz.is_some() {
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim() == "*" || t.trim() == self.etag)
            });
        if fresh {
            *out.status_mut() = StatusCode::NOT_MODIFIED;
            return out;
        }
        let (body, encoding) = match (&self.br, &self.gz) {
            (Some(b), _) if accepts(headers, "br") => (b, Some("br")),
            (_, Some(g)) if accepts(headers, "gzip") => (g, Some("gzip")),
            _ => (&self.body, None),
        };
        if let Some(e) = encoding {
            out.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        out.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        if method != Method::HEAD {
            *out.body_mut() = body.clone();
        }
        out
    }
}

/// Whether `Accept-Encoding` accepts `coding` (listed, and not with `q=0`).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !zero
        })
}

/// The headers of every console answer (`docs/SECURITY.md`, C2).
fn secure(h: &mut HeaderMap) {
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}

fn plain(status: StatusCode, text: &'static str) -> Response<Bytes> {
    let mut out = Response::new(Bytes::from_static(text.as_bytes()));
    *out.status_mut() = status;
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn read_dir(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_dir(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, std::fs::read(&path)?));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
