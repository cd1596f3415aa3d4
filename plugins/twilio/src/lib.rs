//! `twilio`: send SMS through Twilio's Programmable Messaging API
//! (<https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>).
//!
//! Twilio authenticates with HTTP Basic: the account SID (or an API key SID,
//! `SK…`) as the user name and the auth token (or API key secret) as the
//! password. The host injects it (a `basic:<SID>` credential), so the plugin
//! holds neither; the account SID, which is not a secret and is part of the URL,
//! comes from the config. Bodies are form-encoded. Errors are Twilio's
//! `{"code", "message", "more_info", "status"}` (<https://www.twilio.com/docs/usage/twilios-response>).

use serde::Deserialize;
use serde_json::{Value, json};
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result};

struct Twilio;

const AUTH_SLOT: &str = "auth-token";
const DEFAULT_BASE_URL: &str = "https://api.twilio.com";
/// Twilio's limit for `Body`.
const MAX_BODY_CHARS: usize = 1600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    account_sid: String,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendSms {
    to: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    messaging_service_sid: Option<String>,
    body: String,
    #[serde(default)]
    status_callback: Option<String>,
}

impl Connector for Twilio {
    fn manifest() -> Manifest {
        Manifest::new("twilio", env!("CARGO_PKG_VERSION"), "Send SMS with Twilio.")
            .action(
                Action::new("send-sms", "Send an SMS (POST /2010-04-01/Accounts/{sid}/Messages.json).")
                    .input_schema(input_schema())
                    .output_schema(json!({
                        "type": "object",
                        "required": ["sid", "status"],
                        "properties": {"sid": {"type": "string"}, "status": {"type": "string"}}
                    })),
            )
            .host("api.twilio.com")
            .credential(
                CredentialSlot::new(
                    AUTH_SLOT,
                    "Twilio auth token (or API key secret), injected as HTTP Basic with the account SID (or API key SID) as the user name.",
                )
                .host("api.twilio.com"),
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["account_sid"],
                "properties": {
                    "account_sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$", "description": "The account SID (AC…): part of the URL, not a secret."},
                    "base_url": {"type": "string", "default": DEFAULT_BASE_URL},
                    "timeout_ms": {"type": "integer", "minimum": 1}
                }
            }))
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "send-sms" => send_sms(&call.config()?, &call.input()?),
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn send_sms(config: &Config, input: &SendSms) -> Result<Value> {
    let sid = &config.account_sid;
    if !(sid.len() == 34
        && sid.starts_with("AC")
        && sid[2..].bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(Error::invalid_input(format!(
            "config.account_sid: `{sid}` is not a Twilio account SID (AC followed by 32 hex digits)"
        )));
    }
    if !is_e164(&input.to) {
        return Err(Error::invalid_input(format!(
            "input.to: `{}` is not an E.164 phone number (+ then up to 15 digits)",
            input.to
        )));
    }
    let mut form: Vec<(&str, &str)> = vec![("To", &input.to)];
    match (&input.from, &input.messaging_service_sid) {
        (Some(from), None) => form.push(("From", from)),
        (None, Some(service)) => form.push(("MessagingServiceSid", service)),
        _ => {
            return Err(Error::invalid_input(
                "input: exactly one of `from` and `messaging_service_sid` is required",
            ));
        }
    }
    let chars = input.body.chars().count();
    if chars == 0 || chars > MAX_BODY_CHARS {
        return Err(Error::invalid_input(format!(
            "input.body: {chars} characters; Twilio takes 1 to {MAX_BODY_CHARS}"
        )));
    }
    form.push(("Body", &input.body));
    if let Some(cb) = &input.status_callback {
        form.push(("StatusCallback", cb));
    }
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let mut req = Request::post(format!(
        "{}/2010-04-01/Accounts/{sid}/Messages.json",
        base.trim_end_matches('/')
    ))
    .form(&form)
    .credential(AUTH_SLOT);
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    req.fetch()?.error_for_status_with(problem)?.json()
}

fn is_e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .is_some_and(|d| (2..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Read Twilio's error answer: `Twilio error 21211: The 'To' number … (https://www.twilio.com/docs/errors/21211)`.
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let message = body["message"].as_str().map(|m| {
        let mut out = match body["code"].as_u64() {
            Some(code) => format!("Twilio error {code}: {m}"),
            None => m.to_owned(),
        };
        if let Some(info) = body["more_info"].as_str() {
            out.push_str(&format!(" ({info})"));
        }
        out
    });
    Problem {
        message,
        ..Problem::default()
    }
}

fn input_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["to", "body"],
        "properties": {
            "to": {"type": "string", "pattern": "^\\+[0-9]{2,15}$", "description": "E.164, e.g. +14155552671."},
            "from": {"type": "string", "description": "A Twilio number (E.164) or alphanumeric sender id."},
            "messaging_service_sid": {"type": "string", "description": "MG…; instead of `from`."},
            "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY_CHARS},
            "status_callback": {"type": "string", "description": "URL Twilio calls with delivery status."}
        },
        "oneOf": [{"required": ["from"]}, {"required": ["messaging_service_sid"]}]
    })
}

weft_sdk::export!(Twilio);
