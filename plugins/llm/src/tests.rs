use super::*;
use weft_sdk::ErrorKind;

fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
    let headers = headers
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Response::new(
        status,
        headers,
        body.as_bytes().to_vec(),
        "http://127.0.0.1:1/v1/chat/completions",
    )
}

fn api_error(response: &Response) -> Error {
    response.problem_error(problem(response))
}

#[test]
fn errors_are_classified() {
    let e = api_error(&resp(
        429,
        &[("retry-after-ms", "1500"), ("retry-after", "9")],
        "{}",
    ));
    assert_eq!(
        (e.kind, e.retry_after_ms),
        (ErrorKind::RateLimited, Some(1500))
    );
    let e = api_error(&resp(429, &[("retry-after", "2")], "{}"));
    assert_eq!(
        (e.kind, e.retry_after_ms),
        (ErrorKind::RateLimited, Some(2000))
    );
    let quota = r#"{"error":{"message":"You exceeded your quota","code":"insufficient_quota"}}"#;
    assert_eq!(api_error(&resp(429, &[], quota)).kind, ErrorKind::Permanent);
    assert_eq!(api_error(&resp(401, &[], "{}")).kind, ErrorKind::Auth);
    assert_eq!(
        api_error(&resp(503, &[], "down")).kind,
        ErrorKind::Transient
    );
    assert_eq!(api_error(&resp(408, &[], "")).kind, ErrorKind::Transient);
    let e = api_error(&resp(
        400,
        &[],
        r#"{"error":{"message":"model `x` does not exist","type":"invalid_request_error"}}"#,
    ));
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert_eq!(
        e.message,
        "http://127.0.0.1:1/v1/chat/completions: HTTP 400 Bad Request: model `x` does not exist (invalid_request_error)"
    );
    // Anthropic's shapes: the body's type wins over an unusual status.
    let overloaded =
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    assert_eq!(
        api_error(&resp(529, &[], overloaded)).kind,
        ErrorKind::Transient
    );
    let billing = r#"{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low"}}"#;
    assert_eq!(
        api_error(&resp(400, &[], billing)).kind,
        ErrorKind::Permanent
    );
}

#[test]
fn cost_uses_configured_prices() {
    let usage = Usage {
        prompt_tokens: 1000,
        completion_tokens: 500,
        total_tokens: 1500,
        ..Usage::default()
    };
    assert_eq!(cost(&Config::default(), usage), None);
    let config = Config {
        prompt_price_per_1k: Some(0.5),
        completion_price_per_1k: Some(1.5),
        ..Config::default()
    };
    assert_eq!(cost(&config, usage), Some(1.25));
    assert_eq!(
        reported(&config, usage),
        weft_sdk::usage::Usage::llm(1000, 500).cost_micros(1_250_000)
    );
    assert_eq!(
        reported(&Config::default(), usage),
        weft_sdk::usage::Usage::llm(1000, 500),
        "no price: tokens only"
    );
    let absurd = Config {
        prompt_price_per_1k: Some(1e20),
        ..Config::default()
    };
    assert_eq!(
        reported(&absurd, usage),
        weft_sdk::usage::Usage::llm(1000, 500).cost_micros(1 << 48),
        "an absurd price reports the cap, not u64::MAX"
    );
    // Cache tokens: at their own prices, else at the prompt price.
    let cached = Usage {
        cache_read_tokens: Some(400),
        cache_write_tokens: Some(100),
        ..usage
    };
    assert_eq!(cost(&config, cached), Some(1.25));
    let with_cache_prices = Config {
        cache_read_price_per_1k: Some(0.05),
        cache_write_price_per_1k: Some(1.0),
        ..config
    };
    // 500 plain at 0.5 + 400 read at 0.05 + 100 written at 1.0 + 500 at 1.5
    assert_eq!(
        cost(&with_cache_prices, cached),
        Some(0.25 + 0.02 + 0.1 + 0.75)
    );
}

fn message(v: Value) -> Message {
    serde_json::from_value(v).unwrap()
}

#[test]
fn messages_are_checked() {
    assert!(validate_messages(&[]).is_err());
    let first_error = |ms: Value| {
        let ms: Vec<Message> = serde_json::from_value(ms).unwrap();
        validate_messages(&ms).unwrap_err().message
    };
    assert!(
        first_error(json!([{"role": "robot", "content": "x"}]))
            .starts_with("input.messages[0].role")
    );
    assert_eq!(
        first_error(json!([{"role": "user"}])),
        "input.messages[0].content: required on a `user` message"
    );
    assert_eq!(
        first_error(json!([{"role": "assistant"}])),
        "input.messages[0]: an `assistant` message needs `content` or `tool_calls`"
    );
    assert_eq!(
        first_error(
            json!([{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "c1", "content": "x"}])
        ),
        "input.messages[1].tool_call_id: `c1` answers no tool call of an earlier `assistant` message"
    );
    assert_eq!(
        first_error(
            json!([{"role": "assistant", "tool_calls": [{"id": "c1", "name": "f", "arguments": "[1]"}]}])
        ),
        "input.messages[0].tool_calls[0].arguments: must be an object, not [1]"
    );
    assert_eq!(
        first_error(json!([{"role": "user", "content": "x", "tool_call_id": "c"}])),
        "input.messages[0].tool_call_id: only a `tool` message answers a tool call (this one is `user`)"
    );
    let ok: Vec<Message> = serde_json::from_value(json!([
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "name": "f", "arguments": {"a": 1}}]},
        {"role": "tool", "tool_call_id": "c1", "content": {"temp": 21}}
    ]))
    .unwrap();
    validate_messages(&ok).unwrap();
}

#[test]
fn tools_and_tool_choice_are_checked() {
    let tools: Vec<Tool> =
        serde_json::from_value(json!([{"name": "get_weather"}, {"name": "lookup"}])).unwrap();
    validate_tools(&tools).unwrap();
    let bad: Vec<Tool> = serde_json::from_value(json!([{"name": "get weather"}])).unwrap();
    assert!(
        validate_tools(&bad)
            .unwrap_err()
            .message
            .starts_with("input.tools[0].name")
    );
    let twice: Vec<Tool> = serde_json::from_value(json!([{"name": "a"}, {"name": "a"}])).unwrap();
    assert!(
        validate_tools(&twice)
            .unwrap_err()
            .message
            .contains("declared twice")
    );
    assert_eq!(tool_choice(None, &tools).unwrap(), None);
    assert_eq!(
        tool_choice(Some(&json!("required")), &tools).unwrap(),
        Some(ToolChoice::Required)
    );
    assert_eq!(
        tool_choice(Some(&json!({"name": "lookup"})), &tools).unwrap(),
        Some(ToolChoice::Tool("lookup".into()))
    );
    assert_eq!(
        tool_choice(Some(&json!({"name": "nope"})), &tools)
            .unwrap_err()
            .message,
        "input.tool_choice.name: `nope` is not one of input.tools"
    );
    assert!(tool_choice(Some(&json!("any")), &tools).is_err());
    assert_eq!(
        tool_choice(Some(&json!("auto")), &[]).unwrap_err().message,
        "input.tool_choice: set without input.tools"
    );
}

#[test]
fn anthropic_merges_turns_and_lifts_the_system_prompt() {
    let input = Input {
        model: None,
        messages: vec![
            message(json!({"role": "system", "content": "Be brief."})),
            message(json!({"role": "user", "content": "Weather in Paris and Rome?"})),
            message(json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": "t1", "name": "w", "arguments": {"city": "Paris"}},
                {"id": "t2", "name": "w", "arguments": "{\"city\": \"Rome\"}"}]})),
            message(json!({"role": "tool", "tool_call_id": "t1", "content": "21C"})),
            message(
                json!({"role": "tool", "tool_call_id": "t2", "content": {"error": "down"}, "is_error": true}),
            ),
        ],
        temperature: None,
        max_tokens: None,
        json_mode: false,
        tools: vec![],
        tool_choice: None,
    };
    let chat = Chat {
        model: "claude-test",
        input: &input,
        tool_choice: None,
        max_tokens: None,
    };
    assert_eq!(
        anthropic::body(&chat).unwrap(),
        json!({
            "model": "claude-test",
            "max_tokens": 4096,
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "t1", "name": "w", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "t2", "name": "w", "input": {"city": "Rome"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "21C"},
                    {"type": "tool_result", "tool_use_id": "t2", "content": "{\"error\":\"down\"}", "is_error": true}]}
            ]
        })
    );
}

#[test]
fn malformed_arguments_name_the_call() {
    let call = RawCall {
        id: "call_9".into(),
        name: "get_weather".into(),
        arguments: Args::Text("{\"city\": \"Par".into()),
    };
    let e = parse_call(0, call, "https://api.openai.com/v1/chat/completions").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(
        e.message.starts_with(
            "https://api.openai.com/v1/chat/completions: the model's tool call 0 (`get_weather`, id `call_9`) has arguments that are not valid JSON"
        ),
        "{}",
        e.message
    );
    let empty = RawCall {
        id: "c".into(),
        name: "now".into(),
        arguments: Args::Text(String::new()),
    };
    assert_eq!(parse_call(0, empty, "u").unwrap().arguments, json!({}));
}
