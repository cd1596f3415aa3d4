//! `teams`: post to a Microsoft Teams channel or chat through a Workflows
//! (Power Automate) webhook, the successor of the retired Office 365 connector
//! webhooks (<https://learn.microsoft.com/en-us/power-automate/teams/send-a-message-in-teams>,
//! <https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using>).
//!
//! A Workflows webhook URL is authenticated by its `sig` query parameter only.
//! The URL without `sig` is the step's config (not a secret); the signature is a
//! credential the host appends as `?sig=…` (a `query:sig` credential bound to
//! the URL's host), so the plugin never holds it. The body is a message with an
//! Adaptive Card attachment; the flow answers 202 Accepted.

use serde::Deserialize;
use serde_json::{Value, json};
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result};

struct Teams;

const SIG_SLOT: &str = "signature";
/// The hosts Workflows webhooks live on.
const HOSTS: [&str; 2] = ["*.logic.azure.com", "*.environment.api.powerplatform.com"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The webhook URL with its `sig` parameter removed.
    webhook_url: String,
    #[serde(default)]
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    title: Option<String>,
    /// A whole Adaptive Card, instead of `title` and `text`.
    #[serde(default)]
    card: Option<Value>,
}

impl Connector for Teams {
    fn manifest() -> Manifest {
        let mut slot = CredentialSlot::new(
            SIG_SLOT,
            "The `sig` parameter of the Workflows webhook URL, as a `query:sig` credential bound to the URL's host.",
        );
        let mut manifest = Manifest::new(
            "teams",
            env!("CARGO_PKG_VERSION"),
            "Post to Microsoft Teams through a Workflows webhook.",
        )
        .action(
            Action::new("send-message", "Post an Adaptive Card (or a title and text) to the webhook's channel or chat.")
                .input_schema(input_schema())
                .output_schema(json!({
                    "type": "object",
                    "required": ["accepted"],
                    "properties": {"accepted": {"const": true}}
                })),
        )
        .config_schema(json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["webhook_url"],
            "properties": {
                "webhook_url": {"type": "string", "description": "The Workflows webhook URL WITHOUT its `sig` parameter."},
                "timeout_ms": {"type": "integer", "minimum": 1}
            }
        }));
        for host in HOSTS {
            manifest = manifest.host(host);
            slot = slot.host(host);
        }
        manifest.credential(slot)
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "send-message" => send_message(&call.config()?, call.input()?),
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn send_message(config: &Config, input: Input) -> Result<Value> {
    if config.webhook_url.contains("sig=") {
        return Err(Error::invalid_input(
            "config.webhook_url: remove the `sig` parameter; it is the secret and goes into the `signature` credential",
        ));
    }
    let card = match (input.card, input.text) {
        (Some(card), None) if input.title.is_none() => card,
        (None, Some(text)) if !text.is_empty() => {
            let mut body = Vec::new();
            if let Some(title) = input.title {
                body.push(json!({"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true}));
            }
            body.push(json!({"type": "TextBlock", "text": text, "wrap": true}));
            json!({"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "version": "1.4", "body": body})
        }
        _ => {
            return Err(Error::invalid_input(
                "input: either `text` (with an optional `title`) or `card` is required",
            ));
        }
    };
    let message = json!({
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}]
    });
    let mut req = Request::post(&config.webhook_url)
        .json(&message)
        .credential(SIG_SLOT);
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    req.fetch()?.error_for_status_with(problem)?;
    Ok(json!({"accepted": true}))
}

/// Read a Logic Apps error answer: `{"error": {"code", "message"}}`.
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let error = &body["error"];
    Problem {
        message: error["message"]
            .as_str()
            .map(|m| match error["code"].as_str() {
                Some(code) => format!("Teams workflow `{code}`: {m}"),
                None => m.to_owned(),
            }),
        ..Problem::default()
    }
}

fn input_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "title": {"type": "string"},
            "text": {"type": "string", "minLength": 1, "description": "Markdown as Adaptive Cards render it."},
            "card": {"type": "object", "description": "A whole Adaptive Card (type AdaptiveCard)."}
        },
        "oneOf": [{"required": ["text"]}, {"required": ["card"]}]
    })
}

weft_sdk::export!(Teams);
