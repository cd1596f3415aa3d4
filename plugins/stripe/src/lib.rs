//! `stripe`: customers, payment intents and charges through the Stripe API
//! (<https://docs.stripe.com/api>), with a secret or restricted key the host
//! injects as a bearer for `api.stripe.com`.
//!
//! Requests are form-encoded (Stripe takes no JSON bodies); every POST carries
//! the step's idempotency key as `Idempotency-Key`, so a retried step creates one
//! customer, not two (<https://docs.stripe.com/api/idempotent_requests>). Errors
//! are Stripe's error object `{"error": {"type", "code", "message", "param"}}`
//! (<https://docs.stripe.com/api/errors>); `Stripe-Should-Retry` wins over the status.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, ErrorKind, Manifest, Result};

struct Stripe;

const KEY_SLOT: &str = "secret-key";
const DEFAULT_BASE_URL: &str = "https://api.stripe.com";

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    /// Pin a `Stripe-Version`; the account's default when absent.
    api_version: Option<String>,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCustomer {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePaymentIntent {
    amount: u64,
    currency: String,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    receipt_email: Option<String>,
    #[serde(default)]
    automatic_payment_methods: Option<bool>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListCharges {
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    starting_after: Option<String>,
}

/// Form fields in order; `None`s are left out.
#[derive(Default)]
struct Form(Vec<(String, String)>);

impl Form {
    fn field(&mut self, name: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(v) = value {
            self.0.push((name.to_owned(), v.to_string()));
        }
        self
    }

    fn metadata(&mut self, metadata: &BTreeMap<String, String>) -> &mut Self {
        for (k, v) in metadata {
            self.0.push((format!("metadata[{k}]"), v.clone()));
        }
        self
    }
}

impl Connector for Stripe {
    fn manifest() -> Manifest {
        Manifest::new(
            "stripe",
            env!("CARGO_PKG_VERSION"),
            "Stripe customers, payment intents and charges.",
        )
        .action(
            Action::new("create-customer", "Create a customer (POST /v1/customers).")
                .input_schema(customer_schema())
                .output_schema(stripe_object("customer")),
        )
        .action(
            Action::new(
                "create-payment-intent",
                "Create a payment intent (POST /v1/payment_intents); amount in the currency's smallest unit.",
            )
            .input_schema(payment_intent_schema())
            .output_schema(stripe_object("payment_intent")),
        )
        .action(
            Action::new("list-charges", "One page of charges, newest first (GET /v1/charges).")
                .input_schema(list_schema())
                .output_schema(page_schema()),
        )
        .host("api.stripe.com")
        .credential(
            CredentialSlot::new(
                KEY_SLOT,
                "Stripe secret key (sk_…) or, better, a restricted key (rk_…) with Customers: write, PaymentIntents: write, Charges: read.",
            )
            .host("api.stripe.com"),
        )
        .config_schema(json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "base_url": {"type": "string", "default": DEFAULT_BASE_URL},
                "api_version": {"type": "string", "description": "Stripe-Version header, e.g. 2024-06-20."},
                "timeout_ms": {"type": "integer", "minimum": 1}
            }
        }))
    }

    fn invoke(call: Call) -> Result<Value> {
        let config: Config = call.config()?;
        let key = call.context().idempotency_key.clone();
        match call.action() {
            "create-customer" => {
                let i: CreateCustomer = call.input()?;
                let mut form = Form::default();
                form.field("email", i.email)
                    .field("name", i.name)
                    .field("phone", i.phone)
                    .field("description", i.description)
                    .metadata(&i.metadata);
                post(&config, "/v1/customers", &form, &key)
            }
            "create-payment-intent" => {
                let i: CreatePaymentIntent = call.input()?;
                if i.amount == 0 {
                    return Err(Error::invalid_input("input.amount: must be at least 1"));
                }
                if i.currency.len() != 3 || !i.currency.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(Error::invalid_input(format!(
                        "input.currency: `{}` is not a three-letter ISO currency code",
                        i.currency
                    )));
                }
                let mut form = Form::default();
                form.field("amount", Some(i.amount))
                    .field("currency", Some(i.currency.to_ascii_lowercase()))
                    .field("customer", i.customer)
                    .field("description", i.description)
                    .field("receipt_email", i.receipt_email)
                    .field(
                        "automatic_payment_methods[enabled]",
                        i.automatic_payment_methods,
                    )
                    .metadata(&i.metadata);
                post(&config, "/v1/payment_intents", &form, &key)
            }
            "list-charges" => {
                let i: ListCharges = call.input()?;
                let mut req = request(&config, "GET", "/v1/charges");
                if let Some(c) = &i.customer {
                    req = req.query("customer", c);
                }
                if let Some(n) = i.limit {
                    if !(1..=100).contains(&n) {
                        return Err(Error::invalid_input(format!(
                            "input.limit: {n} is outside Stripe's 1-100"
                        )));
                    }
                    req = req.query("limit", n.to_string());
                }
                if let Some(after) = &i.starting_after {
                    req = req.query("starting_after", after);
                }
                let list: Value = send(req)?.json()?;
                let items = list["data"].as_array().cloned().unwrap_or_default();
                let has_more = list["has_more"].as_bool().unwrap_or(false);
                let next = if has_more {
                    items
                        .last()
                        .and_then(|c| c["id"].as_str())
                        .map(str::to_owned)
                } else {
                    None
                };
                Ok(json!({"items": items, "has_more": has_more, "next_starting_after": next}))
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn request(config: &Config, method: &str, path: &str) -> Request {
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let mut req =
        Request::new(method, format!("{}{path}", base.trim_end_matches('/'))).credential(KEY_SLOT);
    if let Some(v) = &config.api_version {
        req = req.header("stripe-version", v);
    }
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    req
}

fn post(config: &Config, path: &str, form: &Form, idempotency_key: &str) -> Result<Value> {
    let mut req = request(config, "POST", path).form(&form.0);
    if !idempotency_key.is_empty() {
        req = req.header("idempotency-key", idempotency_key);
    }
    send(req)?.json()
}

fn send(req: Request) -> Result<Response> {
    req.fetch()?.error_for_status_with(problem)
}

/// Read Stripe's error object (see the module docs).
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let error = &body["error"];
    let message = error["message"].as_str().map(|m| {
        let mut out = String::new();
        if let Some(t) = error["type"].as_str() {
            out.push_str(t);
            if let Some(c) = error["code"].as_str() {
                out.push_str(&format!(" `{c}`"));
            }
            out.push_str(": ");
        }
        out.push_str(m);
        if let Some(p) = error["param"].as_str() {
            out.push_str(&format!(" (param `{p}`)"));
        }
        out
    });
    let kind = match (response.status(), response.header("stripe-should-retry")) {
        (429, _) => Some(ErrorKind::RateLimited),
        (_, Some("true")) => Some(ErrorKind::Transient),
        (s, Some("false")) if s >= 500 => Some(ErrorKind::Permanent),
        _ => None,
    };
    Problem {
        message,
        kind,
        retry_after_ms: None,
    }
}

fn metadata_schema() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}, "description": "Up to 50 keys (Stripe's limit)."})
}

fn customer_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "email": {"type": "string"},
            "name": {"type": "string"},
            "phone": {"type": "string"},
            "description": {"type": "string"},
            "metadata": metadata_schema()
        }
    })
}

fn payment_intent_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["amount", "currency"],
        "properties": {
            "amount": {"type": "integer", "minimum": 1, "description": "In the smallest currency unit (cents)."},
            "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
            "customer": {"type": "string", "description": "cus_… id."},
            "description": {"type": "string"},
            "receipt_email": {"type": "string"},
            "automatic_payment_methods": {"type": "boolean", "description": "Let Stripe pick the methods enabled in the dashboard."},
            "metadata": metadata_schema()
        }
    })
}

fn list_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "customer": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
            "starting_after": {"type": "string", "description": "The `next_starting_after` of the previous page."}
        }
    })
}

fn stripe_object(object: &str) -> Value {
    json!({"type": "object", "required": ["id", "object"], "properties": {"object": {"const": object}}})
}

fn page_schema() -> Value {
    json!({
        "type": "object",
        "required": ["items", "has_more", "next_starting_after"],
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "has_more": {"type": "boolean"},
            "next_starting_after": {"type": ["string", "null"]}
        }
    })
}

weft_sdk::export!(Stripe);
