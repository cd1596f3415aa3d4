//! `email`: send e-mail through Resend's HTTP API
//! (<https://resend.com/docs/api-reference/emails/send-email>), with an API key
//! the host injects as a bearer for `api.resend.com`.
//!
//! Every send carries the step's idempotency key as `Idempotency-Key`
//! (<https://resend.com/docs/dashboard/emails/idempotency-keys>), so a retried
//! step sends one e-mail. Errors are Resend's `{"statusCode", "name", "message"}`
//! (<https://resend.com/docs/api-reference/errors>); a 429 carries `retry-after`
//! and `ratelimit-reset` (<https://resend.com/docs/api-reference/introduction#rate-limit>).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result};

struct Email;

const KEY_SLOT: &str = "api-key";
const DEFAULT_BASE_URL: &str = "https://api.resend.com";
/// Resend's limit on recipients per message (`to`).
const MAX_TO: usize = 50;
/// Resend's limit on the idempotency key's length.
const MAX_IDEMPOTENCY_KEY: usize = 256;

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    from: String,
    to: OneOrMany,
    subject: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    cc: Option<OneOrMany>,
    #[serde(default)]
    bcc: Option<OneOrMany>,
    #[serde(default)]
    reply_to: Option<OneOrMany>,
}

#[derive(Serialize)]
struct Body {
    from: String,
    to: Vec<String>,
    subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cc: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bcc: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<Vec<String>>,
}

impl Connector for Email {
    fn manifest() -> Manifest {
        Manifest::new("email", env!("CARGO_PKG_VERSION"), "Send e-mail (Resend).")
            .action(
                Action::new("send", "Send one e-mail (POST /emails).")
                    .input_schema(input_schema())
                    .output_schema(json!({
                        "type": "object",
                        "required": ["id"],
                        "properties": {"id": {"type": "string", "description": "Resend's e-mail id."}}
                    })),
            )
            .host("api.resend.com")
            .credential(
                CredentialSlot::new(
                    KEY_SLOT,
                    "Resend API key (re_…) with sending access, for a verified sending domain.",
                )
                .host("api.resend.com"),
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "base_url": {"type": "string", "default": DEFAULT_BASE_URL},
                    "timeout_ms": {"type": "integer", "minimum": 1}
                }
            }))
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "send" => send(
                &call.config()?,
                call.input()?,
                &call.context().idempotency_key,
            ),
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn send(config: &Config, input: Input, idempotency_key: &str) -> Result<Value> {
    let body = Body {
        from: input.from,
        to: input.to.into_vec(),
        subject: input.subject,
        text: input.text,
        html: input.html,
        cc: input.cc.map(OneOrMany::into_vec),
        bcc: input.bcc.map(OneOrMany::into_vec),
        reply_to: input.reply_to.map(OneOrMany::into_vec),
    };
    validate(&body)?;
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let mut req = Request::post(format!("{}/emails", base.trim_end_matches('/')))
        .json(&body)
        .header("user-agent", "weft-email-connector")
        .credential(KEY_SLOT);
    if !idempotency_key.is_empty() && idempotency_key.len() <= MAX_IDEMPOTENCY_KEY {
        req = req.header("idempotency-key", idempotency_key);
    }
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    let sent: Value = req.fetch()?.error_for_status_with(problem)?.json()?;
    Ok(json!({"id": sent["id"]}))
}

fn validate(body: &Body) -> Result<()> {
    if body.to.is_empty() || body.to.len() > MAX_TO {
        return Err(Error::invalid_input(format!(
            "input.to: {} recipients; Resend takes 1 to {MAX_TO}",
            body.to.len()
        )));
    }
    for (field, list) in [
        ("to", Some(&body.to)),
        ("cc", body.cc.as_ref()),
        ("bcc", body.bcc.as_ref()),
        ("reply_to", body.reply_to.as_ref()),
    ] {
        for (i, address) in list.into_iter().flatten().enumerate() {
            if !looks_like_address(address) {
                return Err(Error::invalid_input(format!(
                    "input.{field}[{i}]: `{address}` is not an e-mail address"
                )));
            }
        }
    }
    if !looks_like_address(&body.from) {
        return Err(Error::invalid_input(format!(
            "input.from: `{}` is not an e-mail address (`a@example.com` or `Name <a@example.com>`)",
            body.from
        )));
    }
    if body.subject.trim().is_empty() {
        return Err(Error::invalid_input("input.subject: must not be empty"));
    }
    if body.text.as_deref().is_none_or(str::is_empty)
        && body.html.as_deref().is_none_or(str::is_empty)
    {
        return Err(Error::invalid_input("input: `text` or `html` is required"));
    }
    Ok(())
}

/// `a@b.c` or `Name <a@b.c>`: a check for obvious mistakes, not RFC 5322.
fn looks_like_address(s: &str) -> bool {
    let addr = match (s.find('<'), s.strip_suffix('>')) {
        (Some(i), Some(rest)) => &rest[i + 1..],
        _ => s,
    };
    match addr.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !addr.contains(char::is_whitespace)
                && !addr.contains(['<', '>', ',', '\r', '\n'])
        }
        None => false,
    }
}

/// Read Resend's error answer (see the module docs).
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let message = body["message"]
        .as_str()
        .map(|m| match body["name"].as_str() {
            Some(name) => format!("Resend `{name}`: {m}"),
            None => m.to_owned(),
        });
    let retry_after_ms = response.retry_after_ms().or_else(|| {
        response
            .header("ratelimit-reset")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| s.saturating_mul(1000))
    });
    Problem {
        message,
        kind: None,
        retry_after_ms,
    }
}

fn input_schema() -> Value {
    let addresses =
        json!({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]});
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["from", "to", "subject"],
        "properties": {
            "from": {"type": "string", "description": "`a@your-domain.com` or `Name <a@your-domain.com>`; the domain verified in Resend."},
            "to": addresses,
            "subject": {"type": "string", "minLength": 1},
            "text": {"type": "string"},
            "html": {"type": "string"},
            "cc": addresses,
            "bcc": addresses,
            "reply_to": addresses
        },
        "anyOf": [{"required": ["text"]}, {"required": ["html"]}]
    })
}

weft_sdk::export!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in ["a@b.example", "Acme <noreply@acme.example>"] {
            assert!(looks_like_address(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.example",
            "a b@c.example",
            "a@b.example\r\nBcc: x@y.example",
            "x <a@b.example",
        ] {
            assert!(!looks_like_address(bad), "{bad}");
        }
    }
}
