//! The `stripe` connector in the real sandbox against a loopback stand-in for
//! the Stripe API (`api.stripe.com` resolves to the stand-in), answering with the
//! documented shapes:
//! - create a customer: <https://docs.stripe.com/api/customers/create>
//! - create a payment intent: <https://docs.stripe.com/api/payment_intents/create>
//! - list charges, cursor pagination: <https://docs.stripe.com/api/charges/list>,
//!   <https://docs.stripe.com/api/pagination>
//! - form-encoded bodies, bearer auth: <https://docs.stripe.com/api/authentication>
//! - idempotency keys: <https://docs.stripe.com/api/idempotent_requests>
//! - errors (status codes, the error object, `rate_limit`): <https://docs.stripe.com/api/errors>
//! - `Stripe-Should-Retry`: <https://docs.stripe.com/error-low-level#idempotency>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use weft_sandbox::{Invocation, Outcome};
use weft_tests::connector::Provider;
use weft_tests::{Inbox, Received, StandIn, bearer, failure, output};
use weft_types::{ErrorKind, StepContext};

const KEY: &str = "rk_test_51Hx0000000000000000";
const HOST: &str = "api.stripe.com";

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn stripe_error(status: StatusCode, error: Value) -> Response {
    reply(status, json!({"error": error}))
}

async fn stripe(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.header("authorization") != Some(&format!("Bearer {KEY}")) {
            return stripe_error(
                StatusCode::UNAUTHORIZED,
                json!({"message": "Invalid API Key provided: rk_test_****0000", "type": "invalid_request_error"}),
            );
        }
        answer(req)
    })
    .await
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_stripe", HOST, server).await
}

async fn run(p: &Provider, action: &str, input: Value, key: &str) -> Outcome {
    p.invoke_with(Invocation {
        config: json!({"base_url": p.url(""), "api_version": "2024-06-20"}).to_string(),
        grants: p.grants(vec![bearer("secret-key", key, &[HOST])]),
        context: StepContext {
            idempotency_key: "run-7f3a/charge/0".into(),
            ..StepContext::adhoc("run-7f3a")
        },
        ..Invocation::new(action, input.to_string())
    })
    .await
}

#[tokio::test]
async fn create_customer_is_form_encoded_with_the_idempotency_key() {
    let (server, inbox) = stripe(|_| {
        reply(
            StatusCode::OK,
            json!({"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "jenny.rosen@example.com",
                   "name": "Jenny Rosen", "metadata": {"plan": "pro", "source": "weft"}, "livemode": false}),
        )
    })
    .await;
    let p = provider(&server).await;
    let out = run(
        &p,
        "create-customer",
        json!({"email": "jenny.rosen@example.com", "name": "Jenny Rosen",
               "metadata": {"source": "weft", "plan": "pro"}}),
        KEY,
    )
    .await;
    assert_eq!(output(&out)["id"], "cus_NffrFeUfNV2Hib");
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/v1/customers")
    );
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.header("idempotency-key"), Some("run-7f3a/charge/0"));
    assert_eq!(seen.header("stripe-version"), Some("2024-06-20"));
    assert_eq!(
        seen.text(),
        "email=jenny.rosen%40example.com&name=Jenny%20Rosen&metadata%5Bplan%5D=pro&metadata%5Bsource%5D=weft"
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(KEY));
}

#[tokio::test]
async fn create_payment_intent_sends_amount_and_currency() {
    let (server, inbox) = stripe(|_| {
        reply(
            StatusCode::OK,
            json!({"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "object": "payment_intent", "amount": 2000,
                   "currency": "usd", "status": "requires_payment_method",
                   "client_secret": "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH"}),
        )
    })
    .await;
    let p = provider(&server).await;
    let out = run(
        &p,
        "create-payment-intent",
        json!({"amount": 2000, "currency": "USD", "customer": "cus_NffrFeUfNV2Hib", "automatic_payment_methods": true}),
        KEY,
    )
    .await;
    assert_eq!(output(&out)["status"], "requires_payment_method");
    let seen = inbox.only();
    assert_eq!(seen.uri, "/v1/payment_intents");
    assert_eq!(
        seen.text(),
        "amount=2000&currency=usd&customer=cus_NffrFeUfNV2Hib&automatic_payment_methods%5Benabled%5D=true"
    );
    assert_eq!(seen.header("idempotency-key"), Some("run-7f3a/charge/0"));
}

#[tokio::test]
async fn list_charges_gives_the_cursor_of_the_next_page() {
    let (server, inbox) = stripe(|req| {
        let has_more = !req.uri.contains("starting_after");
        reply(
            StatusCode::OK,
            json!({"object": "list", "url": "/v1/charges", "has_more": has_more,
                   "data": [{"id": "ch_3", "object": "charge", "amount": 100}, {"id": "ch_2", "object": "charge", "amount": 200}]}),
        )
    })
    .await;
    let p = provider(&server).await;
    let first = run(
        &p,
        "list-charges",
        json!({"customer": "cus_1", "limit": 2}),
        KEY,
    )
    .await;
    assert_eq!(output(&first)["next_starting_after"], "ch_2");
    assert_eq!(output(&first)["items"][0]["id"], "ch_3");
    let last = run(
        &p,
        "list-charges",
        json!({"limit": 2, "starting_after": "ch_2"}),
        KEY,
    )
    .await;
    assert_eq!(output(&last)["next_starting_after"], Value::Null);
    let seen = inbox.all();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("GET", "/v1/charges?customer=cus_1&limit=2")
    );
    assert_eq!(
        seen[0].header("idempotency-key"),
        None,
        "only POSTs carry the key"
    );
    assert_eq!(seen[1].uri, "/v1/charges?limit=2&starting_after=ch_2");
}

#[tokio::test]
async fn an_invalid_key_is_auth() {
    let (server, _inbox) = stripe(|_| unreachable!()).await;
    let p = provider(&server).await;
    let f = failure(&run(&p, "list-charges", json!({}), "sk_test_wrong").await).clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message.ends_with("HTTP 401 Unauthorized: invalid_request_error: Invalid API Key provided: rk_test_****0000"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn card_declines_and_bad_parameters_are_invalid_input() {
    let (server, _inbox) = stripe(|req| {
        if req.text().contains("customer=cus_missing") {
            stripe_error(
                StatusCode::BAD_REQUEST,
                json!({"type": "invalid_request_error", "code": "resource_missing", "param": "customer",
                       "message": "No such customer: 'cus_missing'"}),
            )
        } else {
            stripe_error(
                StatusCode::PAYMENT_REQUIRED,
                json!({"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                       "message": "Your card has insufficient funds."}),
            )
        }
    })
    .await;
    let p = provider(&server).await;
    let f = failure(
        &run(
            &p,
            "create-payment-intent",
            json!({"amount": 5, "currency": "eur", "customer": "cus_missing"}),
            KEY,
        )
        .await,
    )
    .clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.ends_with("HTTP 400 Bad Request: invalid_request_error `resource_missing`: No such customer: 'cus_missing' (param `customer`)"),
        "{}",
        f.message
    );
    let f = failure(
        &run(
            &p,
            "create-payment-intent",
            json!({"amount": 5, "currency": "eur"}),
            KEY,
        )
        .await,
    )
    .clone();
    assert_eq!(
        f.kind,
        ErrorKind::InvalidInput,
        "a declined card is not retried"
    );
    assert!(
        f.message.contains("card_error `card_declined`"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn rate_limits_and_should_retry_are_retryable() {
    let (server, _inbox) = stripe(|req| {
        if req.method == "GET" {
            stripe_error(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"type": "invalid_request_error", "code": "rate_limit",
                       "message": "Too many requests hit the API too quickly."}),
            )
        } else {
            // A concurrent request with the same idempotency key: Stripe asks for a retry.
            (
                StatusCode::CONFLICT,
                [("stripe-should-retry", "true")],
                axum::Json(json!({"error": {"type": "invalid_request_error", "code": "lock_timeout",
                                            "message": "This object cannot be accessed right now because another API request or Stripe process is currently accessing it."}})),
            )
                .into_response()
        }
    })
    .await;
    let p = provider(&server).await;
    let f = failure(&run(&p, "list-charges", json!({}), KEY).await).clone();
    assert_eq!(f.kind, ErrorKind::RateLimited);
    assert!(f.message.contains("`rate_limit`"), "{}", f.message);
    let f =
        failure(&run(&p, "create-customer", json!({"email": "a@b.example"}), KEY).await).clone();
    assert_eq!(
        f.kind,
        ErrorKind::Transient,
        "Stripe-Should-Retry: true wins over 409"
    );
}

#[tokio::test]
async fn api_errors_are_transient_and_bad_currencies_never_leave() {
    let (server, inbox) = stripe(|_| {
        stripe_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"type": "api_error", "message": "An unknown error occurred"}),
        )
    })
    .await;
    let p = provider(&server).await;
    let f = failure(&run(&p, "create-customer", json!({}), KEY).await).clone();
    assert_eq!(f.kind, ErrorKind::Transient);
    assert_eq!(inbox.len(), 1);
    let f = failure(
        &run(
            &p,
            "create-payment-intent",
            json!({"amount": 5, "currency": "euro"}),
            KEY,
        )
        .await,
    )
    .clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert_eq!(
        f.message,
        "input.currency: `euro` is not a three-letter ISO currency code"
    );
    assert_eq!(inbox.len(), 1, "refused before sending");
}
