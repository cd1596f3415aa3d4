//! `weft:plugin/http`: checks each hop against the egress policy, injects a bound
//! credential, follows redirects itself, and scrubs secrets from what comes back.
//!
//! In a step that holds a credential, the request asks for
//! `Accept-Encoding: identity`, the transport decodes nothing (so every
//! `Content-Encoding` line the host sent is still there), and a response with
//! any `Content-Encoding` other than `identity`, on any line, is refused: the
//! scrubber could not see a secret inside. (L4: a client that decodes looks at
//! the first value only and removes every line, so `gzip` stacked on two lines
//! reached the plugin still compressed.)

use super::{HostState, Phase};
use crate::egress::{Outbound, TransportError, policy};
use crate::grants::{Credential, Injection, basic_token};
use http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use std::time::{Duration, Instant};
use url::Url;
use weft_types::Reason;
use weft_world::http::{Host, HttpError, Request, Response};

/// Headers the plugin may not set: the host owns framing, routing and proxies.
const DROPPED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
];

/// Every `Content-Encoding` line of an undecoded response, joined, unless
/// each value on each line is `identity` (the body is as sent).
fn undecoded_encoding(headers: &[(String, String)]) -> Option<String> {
    let values: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
        .map(|(_, v)| v.as_str())
        .collect();
    let all = values.join(", ");
    let decoded = all
        .split(',')
        .map(str::trim)
        .all(|e| e.is_empty() || e.eq_ignore_ascii_case("identity"));
    (!decoded).then_some(all)
}

/// Headers that do not follow a redirect to another origin.
const ORIGIN_BOUND: &[&str] = &["authorization", "cookie"];

fn headers(pairs: &[(String, String)]) -> Result<HeaderMap, HttpError> {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| HttpError::InvalidRequest(format!("header name `{k}` is not valid")))?;
        if DROPPED.contains(&name.as_str()) {
            continue;
        }
        let value = HeaderValue::from_str(v)
            .map_err(|_| HttpError::InvalidRequest(format!("header `{k}` has an invalid value")))?;
        map.append(name, value);
    }
    Ok(map)
}

fn inject(
    c: &Credential,
    method: &Method,
    body: Option<&[u8]>,
    url: &mut Url,
    headers: &mut HeaderMap,
) -> Result<(), HttpError> {
    let bad =
        |_| HttpError::InvalidRequest(format!("credential `{}` cannot be put in a header", c.slot));
    match &c.inject {
        Injection::Bearer | Injection::OAuth2(_) => {
            let v = HeaderValue::from_str(&format!("Bearer {}", c.secret.expose())).map_err(bad)?;
            headers.insert(header::AUTHORIZATION, sensitive(v));
        }
        Injection::Basic { username } => {
            let token = basic_token(username, c.secret.expose());
            let v = HeaderValue::from_str(&format!("Basic {token}")).map_err(bad)?;
            headers.insert(header::AUTHORIZATION, sensitive(v));
        }
        Injection::Header { name } => {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                HttpError::InvalidRequest(format!(
                    "credential `{}` names an invalid header",
                    c.slot
                ))
            })?;
            headers.insert(
                name,
                sensitive(HeaderValue::from_str(c.secret.expose()).map_err(bad)?),
            );
        }
        Injection::Query { param } => {
            url.query_pairs_mut().append_pair(param, c.secret.expose());
        }
        Injection::Path { placeholder } => {
            let valid = (1..=64).contains(&placeholder.len())
                && placeholder
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            let path = url.path().to_owned();
            if !valid || path.matches(placeholder.as_str()).count() != 1 {
                return Err(HttpError::InvalidRequest(format!(
                    "credential `{}` goes into the URL path in place of `{placeholder}`, which the path must contain exactly once",
                    c.slot
                )));
            }
            url.set_path(&path.replacen(placeholder.as_str(), &path_encode(c.secret.expose()), 1));
        }
        // Signed last, over the hop's final URL, headers and body (the
        // plugin's own `authorization` and `x-amz-date`/`-content-sha256`/
        // `-security-token` are replaced, see `sigv4`).
        Injection::AwsSigv4 {
            access_key_id,
            region,
            service,
        } => {
            let signer = super::sigv4::Signer {
                access_key_id,
                secret: c.secret.expose(),
                region,
                service,
            };
            signer
                .sign(
                    method,
                    url,
                    headers,
                    body.unwrap_or_default(),
                    std::time::SystemTime::now(),
                )
                .map_err(|why| {
                    HttpError::InvalidRequest(format!(
                        "credential `{}` (AWS Signature Version 4) cannot sign this request: {why}",
                        c.slot
                    ))
                })?;
        }
        // A broker login is the host's, for `triggers.queue`: never sent
        // in a plugin's request.
        Injection::Amqp { .. } => {
            return Err(HttpError::InvalidRequest(format!(
                "credential `{}` is an AMQP login, usable only by a queue trigger, not in an HTTP request",
                c.slot
            )));
        }
    }
    Ok(())
}

/// Percent-encodes all but RFC 3986 unreserved characters and `:`, so a secret
/// in the path stays one segment (no `/`, `?`, `#`, `..` effect).
fn path_encode(secret: &str) -> String {
    let mut out = String::with_capacity(secret.len());
    for b in secret.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sensitive(mut v: HeaderValue) -> HeaderValue {
    v.set_sensitive(true);
    v
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

impl HostState {
    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    async fn send_checked(
        &mut self,
        req: Request,
    ) -> wasmtime::Result<Result<Response, HttpError>> {
        let size = req.url.len()
            + req.body.as_ref().map_or(0, Vec::len)
            + req
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        self.check_hostcall("an outbound request", size)?;
        if self.phase != Phase::Invoke {
            return Ok(Err(HttpError::Denied(
                "no outbound requests while the plugin describes itself".into(),
            )));
        }
        let mut method = match Method::from_bytes(req.method.to_ascii_uppercase().as_bytes()) {
            Ok(m) => m,
            Err(_) => {
                return Ok(Err(HttpError::InvalidRequest(format!(
                    "method `{}` is not valid",
                    req.method
                ))));
            }
        };
        let mut url = match Url::parse(&req.url) {
            Ok(u) => u,
            Err(e) => {
                return Ok(Err(HttpError::InvalidRequest(format!(
                    "URL `{}` is not valid: {e}",
                    req.url
                ))));
            }
        };
        let mut hdrs = match headers(&req.headers) {
            Ok(h) => h,
            Err(e) => return Ok(Err(e)),
        };
        if !self.secrets.is_empty() {
            // K3, L4: ask for the body as it is; nothing is decoded.
            hdrs.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
        }
        let mut credential = match &req.credential {
            None => None,
            Some(slot) => {
                let declared = self
                    .manifest
                    .as_ref()
                    .is_some_and(|m| m.credential(slot).is_some());
                match self.grants.credentials.iter().find(|c| &c.slot == slot) {
                    Some(c) if declared => Some(c.clone()),
                    _ => return Ok(Err(HttpError::CredentialNotFound(slot.clone()))),
                }
            }
        };
        let declared = self
            .manifest
            .as_ref()
            .map(|m| m.capabilities.hosts.clone())
            .unwrap_or_default();
        let slot_hosts = credential
            .as_ref()
            .and_then(|c| {
                self.manifest
                    .as_ref()
                    .and_then(|m| m.credential(&c.slot))
                    .map(|s| s.hosts.clone())
            })
            .unwrap_or_default();
        let per_request = req
            .timeout_ms
            .map_or(Duration::MAX, |ms| Duration::from_millis(u64::from(ms)));
        let mut body = req.body;
        let mut hops = 0u32;
        // An OAuth2 token refused with 401 is renewed once per request.
        let mut renewed = false;
        loop {
            if self.usage.egress_requests >= self.limits.requests_per_step {
                return Err(self.breach(
                    Reason::EgressLimit,
                    format!(
                        "more than {} outbound requests in one step",
                        self.limits.requests_per_step
                    ),
                ));
            }
            if let Err(why) = policy::check_url(
                &url,
                self.egress.allow_private,
                &declared,
                &self.grants.hosts,
            ) {
                return Ok(Err(HttpError::Denied(why)));
            }
            let Some((host, port)) = policy::host_port(&url) else {
                return Ok(Err(HttpError::InvalidRequest("the URL has no host".into())));
            };
            let mut hop_url = url.clone();
            let mut hop_headers = hdrs.clone();
            let mut injected = false;
            if let Some(c) = &credential {
                let bound =
                    c.bound_to(&host, port) && slot_hosts.iter().any(|p| p.matches(&host, port));
                // Secrets travel over TLS only; plain http is accepted when the operator
                // allows private addresses (local development and stand-in servers).
                let secure = url.scheme() == "https" || self.egress.allow_private;
                if bound && secure {
                    if let Err(e) =
                        inject(c, &method, body.as_deref(), &mut hop_url, &mut hop_headers)
                    {
                        return Ok(Err(e));
                    }
                    injected = true;
                } else if hops == 0 {
                    let why = if bound {
                        format!(
                            "credential `{}` is only sent over https, not to http://{host}:{port}",
                            c.slot
                        )
                    } else {
                        format!(
                            "credential `{}` is not bound to host `{host}:{port}`",
                            c.slot
                        )
                    };
                    return Ok(Err(HttpError::CredentialNotBound(why)));
                }
            }
            let timeout = per_request.min(self.remaining());
            self.usage.egress_requests += 1;
            self.usage.egress_bytes_out += body.as_ref().map_or(0, |b| b.len() as u64);
            let hop = Outbound {
                method: method.clone(),
                url: hop_url,
                headers: hop_headers,
                body: body.clone(),
                timeout,
                max_body: self.limits.response_bytes,
                decode: self.secrets.is_empty(),
            };
            let inbound = match self.egress.transport.send(hop).await {
                Ok(r) => r,
                Err(TransportError::TooLarge(limit)) => {
                    return Err(self.breach(
                        Reason::ResponseTooLarge,
                        format!("the response from `{host}` is over the {limit}-byte limit"),
                    ));
                }
                Err(e) => return Ok(Err(self.map_error(e))),
            };
            self.usage.egress_bytes_in += inbound.body.len() as u64;
            let location = inbound
                .headers
                .iter()
                .find(|(k, _)| k == "location")
                .map(|(_, v)| v.clone());
            match (inbound.status, location) {
                (301 | 302 | 303 | 307 | 308, Some(loc)) => {
                    if hops >= self.limits.redirects {
                        return Ok(Err(HttpError::TooManyRedirects(hops)));
                    }
                    let next = match url.join(&loc) {
                        Ok(n) => n,
                        Err(e) => {
                            return Ok(Err(HttpError::Protocol(format!(
                                "redirect to an invalid URL: {e}"
                            ))));
                        }
                    };
                    if inbound.status == 303
                        || (matches!(inbound.status, 301 | 302) && method == Method::POST)
                    {
                        method = Method::GET;
                        body = None;
                        hdrs.remove(header::CONTENT_TYPE);
                    }
                    if !same_origin(&url, &next) {
                        // K2: a secret injected into the URL may come back in
                        // `Location` (servers echo the query): never carry it
                        // to another origin.
                        if self.secrets.scrub(next.as_str().as_bytes()).is_some() {
                            return Ok(Err(HttpError::Denied(format!(
                                "the redirect from `{}` to `{}` would carry an injected credential to another origin; not followed",
                                url.host_str().unwrap_or_default(),
                                next.host_str().unwrap_or_default()
                            ))));
                        }
                        for h in ORIGIN_BOUND {
                            hdrs.remove(*h);
                        }
                    }
                    url = next;
                    hops += 1;
                }
                (401, _)
                    if injected
                        && !renewed
                        && credential
                            .as_ref()
                            .is_some_and(|c| matches!(c.inject, Injection::OAuth2(_)))
                        && self.grants.refresh.is_some() =>
                {
                    renewed = true;
                    if let Some(c) = credential.as_mut()
                        && self.renew(c).await
                    {
                        continue;
                    }
                    return self.pass_on(&host, inbound);
                }
                _ => return self.pass_on(&host, inbound),
            }
        }
    }

    /// Renews an OAuth2 credential's token after a 401 (the grant's
    /// [`Refresh`](crate::Refresh)): the step's grants and the scrubber get
    /// the new token; the refused one stays scrubbed (kept under an empty
    /// slot name, which no plugin can name). `false`: not renewed.
    async fn renew(&mut self, c: &mut Credential) -> bool {
        let Some(refresh) = self.grants.refresh.clone() else {
            return false;
        };
        let slot = c.slot.clone();
        match refresh.refresh(&slot, &c.secret).await {
            Ok(secret) => {
                let mut retired = c.clone();
                retired.slot = String::new();
                c.secret = secret;
                for g in &mut self.grants.credentials {
                    if g.slot == slot {
                        g.secret = c.secret.clone();
                    }
                }
                self.grants.credentials.push(retired);
                self.secrets = std::sync::Arc::new(crate::scrub::Scrubber::new(
                    self.grants
                        .credentials
                        .iter()
                        .flat_map(Credential::clear_forms),
                ));
                true
            }
            Err(why) => {
                tracing::warn!(credential.slot = %slot, error = %why, "OAuth2 token not renewed after a 401; the 401 goes to the plugin");
                false
            }
        }
    }

    /// A final answer as the plugin gets it: scrubbed, and refused when its
    /// encoding hides what the scrubber must see.
    fn pass_on(
        &self,
        host: &str,
        inbound: crate::egress::Inbound,
    ) -> wasmtime::Result<Result<Response, HttpError>> {
        let status = inbound.status;
        if !self.secrets.is_empty()
            && let Some(encoding) = undecoded_encoding(&inbound.headers)
        {
            return Ok(Err(HttpError::Denied(format!(
                "undecodable_encoding: the response from `{host}` is encoded `{encoding}`; a step holding a credential asks for and accepts only identity (the scrubber cannot see inside an encoded body), so the body was not passed on"
            ))));
        }
        let secrets = self.secrets.clone();
        let headers = inbound
            .headers
            .into_iter()
            .map(|(k, v)| (secrets.scrub_str(&k), secrets.scrub_str(&v)))
            .collect();
        let body = secrets.scrub(&inbound.body).unwrap_or(inbound.body);
        Ok(Ok(Response {
            status,
            headers,
            body,
        }))
    }

    fn map_error(&self, e: TransportError) -> HttpError {
        match e {
            TransportError::Denied(why) => HttpError::Denied(why),
            TransportError::Timeout => HttpError::Timeout,
            TransportError::Connect(m) => HttpError::Connect(self.secrets.scrub_str(&m)),
            TransportError::Protocol(m) => HttpError::Protocol(self.secrets.scrub_str(&m)),
            TransportError::TooLarge(n) => HttpError::Protocol(format!("response over {n} bytes")),
        }
    }
}

impl Host for HostState {
    async fn send(&mut self, req: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        self.send_checked(req).await
    }
}
