//! What the Google connectors (`sheets`, `gmail`) share: reading Google's
//! error answer, the `google` OAuth2 credential slot and the API config.
//!
//! Google APIs answer errors as
//! `{"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED",
//! "errors": [{"reason": "rateLimitExceeded", ...}]}}`
//! (<https://cloud.google.com/apis/design/errors#http_mapping>,
//! <https://developers.google.com/sheets/api/limits>,
//! <https://developers.google.com/gmail/api/guides/handle-errors>). Classified:
//! 429, and 403 with reason `rateLimitExceeded` / `userRateLimitExceeded`
//! (or status `RESOURCE_EXHAUSTED`) are `rate-limited`; 401 is `auth` (the host
//! has already refreshed the OAuth2 token once and sent the request again);
//! other 403s are `auth` (the credential lacks a scope or access); 400 and the
//! other 4xx `invalid-input`; 5xx `transient`.

use serde::Deserialize;
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{CredentialSlot, ErrorKind, Result};

/// The credential slot both connectors name: an OAuth2 credential whose
/// access token the host injects as `Authorization: Bearer`.
pub const SLOT: &str = "google";

/// The slot, bound to `host`, with the scope the connector needs.
pub fn slot(host: &str, scope: &str) -> CredentialSlot {
    CredentialSlot::new(
        SLOT,
        format!(
            "Google OAuth2 credential (`weft credentials create ... --oauth2`, grant authorization_code) \
             with the scope {scope}; the host injects its access token."
        ),
    )
    .host(host)
}

/// The connectors' config: where the API is and how long a request may take.
#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// API root (default the connector's `https://<host>`).
    pub base_url: Option<String>,
    /// Per-request timeout.
    pub timeout_ms: Option<u32>,
}

impl Config {
    /// `{base_url or default}{path}`.
    pub fn url(&self, default: &str, path: &str) -> String {
        let base = self.base_url.as_deref().unwrap_or(default);
        format!("{}{path}", base.trim_end_matches('/'))
    }

    /// `req` with the credential, JSON accept header and timeout.
    pub fn request(&self, req: Request) -> Request {
        let mut req = req.header("accept", "application/json").credential(SLOT);
        if let Some(ms) = self.timeout_ms {
            req = req.timeout_ms(ms);
        }
        req
    }

    /// Sends `req` (see [`Config::request`]); a status >= 400 is classified by
    /// [`problem`].
    ///
    /// # Errors
    /// The request's failure, or the classified error answer.
    pub fn send(&self, req: Request) -> Result<Response> {
        self.request(req).fetch()?.error_for_status_with(problem)
    }
}

/// The config's JSON Schema, `default_base` named as the default.
pub fn config_schema(default_base: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "base_url": {"type": "string", "default": default_base, "description": "API root."},
            "timeout_ms": {"type": "integer", "minimum": 1}
        }
    })
}

/// Reads Google's error answer (see the crate docs).
pub fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let error = &body["error"];
    let status = error["status"].as_str();
    let reasons: Vec<&str> = error["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["reason"].as_str()).collect())
        .unwrap_or_default();
    let message = error["message"].as_str().map(|m| {
        let mut text = m.to_owned();
        let tags: Vec<&str> = status.into_iter().chain(reasons.iter().copied()).collect();
        if !tags.is_empty() {
            text.push_str(&format!(" ({})", tags.join(", ")));
        }
        text
    });
    let rate_limited = response.status() == 429
        || status == Some("RESOURCE_EXHAUSTED")
        || reasons
            .iter()
            .any(|r| matches!(*r, "rateLimitExceeded" | "userRateLimitExceeded"));
    Problem {
        message,
        kind: rate_limited.then_some(ErrorKind::RateLimited),
        retry_after_ms: None,
    }
}
