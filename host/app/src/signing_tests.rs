//! The published examples of each sender, and every failure reason.

use super::*;

fn lookup<'h>(pairs: &'h [(&'h str, &'h str)]) -> impl Fn(&str) -> Option<&'h str> + 'h {
    move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

const SLACK_SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

#[test]
fn slack_published_example() {
    let h_pairs = [
        ("x-slack-request-timestamp", "1531420618"),
        ("x-slack-signature", SLACK_SIG),
    ];
    let h = lookup(&h_pairs);
    let at = 1_531_420_618_000;
    let v = |body: &[u8], now: i64| {
        verify(
            SignatureScheme::Slack,
            SLACK_SECRET,
            Some(300_000),
            &h,
            body,
            now,
        )
    };
    assert_eq!(v(SLACK_BODY, at + 299_000), Ok(()));
    assert_eq!(
        v(SLACK_BODY, at - 299_000),
        Ok(()),
        "a clock behind the sender's"
    );
    assert_eq!(v(SLACK_BODY, at + 301_000), Err(F::StaleTimestamp));
    assert_eq!(v(SLACK_BODY, at - 301_000), Err(F::StaleTimestamp));
    assert_eq!(v(b"token=changed", at), Err(F::BadSignature));
    assert_eq!(
        verify(
            SignatureScheme::Slack,
            b"other",
            Some(300_000),
            &h,
            SLACK_BODY,
            at
        ),
        Err(F::BadSignature)
    );
    let no_ts_pairs = [("x-slack-signature", SLACK_SIG)];
    let no_ts = lookup(&no_ts_pairs);
    assert_eq!(
        verify(
            SignatureScheme::Slack,
            SLACK_SECRET,
            None,
            &no_ts,
            SLACK_BODY,
            at
        ),
        Err(F::MissingHeader)
    );
    let bad_pairs = [
        ("x-slack-request-timestamp", "1531420618"),
        ("x-slack-signature", "sha1=00"),
    ];
    let bad = lookup(&bad_pairs);
    assert_eq!(
        verify(
            SignatureScheme::Slack,
            SLACK_SECRET,
            None,
            &bad,
            SLACK_BODY,
            at
        ),
        Err(F::MalformedHeader)
    );
}

#[test]
fn standard_webhooks_published_example() {
    let secret = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = br#"{"test": 2432232314}"#;
    let at = 1_614_265_330_000;
    let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    for sig in [
        good.to_owned(),
        format!("v1,AAAA {good}"),
        format!("v2,xyz {good}"),
    ] {
        let h_pairs = [
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            ("webhook-signature", sig.as_str()),
        ];
        let h = lookup(&h_pairs);
        let v = verify(
            SignatureScheme::Standard,
            secret,
            Some(300_000),
            &h,
            body,
            at,
        );
        assert_eq!(v, Ok(()), "{sig}");
    }
    // The id is signed: another id does not verify.
    let h_pairs = [
        ("webhook-id", "msg_other"),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", good),
    ];
    let h = lookup(&h_pairs);
    assert_eq!(
        verify(
            SignatureScheme::Standard,
            secret,
            Some(300_000),
            &h,
            body,
            at
        ),
        Err(F::BadSignature)
    );
    // Svix's own header names.
    let h_pairs = [
        ("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("svix-timestamp", "1614265330"),
        ("svix-signature", good),
    ];
    let h = lookup(&h_pairs);
    assert_eq!(
        verify(
            SignatureScheme::Standard,
            secret,
            Some(300_000),
            &h,
            body,
            at
        ),
        Ok(())
    );
}

#[test]
fn github_published_example_has_no_window() {
    let secret = b"It's a Secret to Everybody";
    let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let h_pairs = [("x-hub-signature-256", sig)];
    let h = lookup(&h_pairs);
    let v = |body: &[u8], now| verify(SignatureScheme::Github, secret, None, &h, body, now);
    assert_eq!(v(b"Hello, World!", 0), Ok(()));
    assert_eq!(
        v(b"Hello, World!", i64::MAX),
        Ok(()),
        "no timestamp, no window"
    );
    assert_eq!(v(b"Hello, World?", 0), Err(F::BadSignature));
    let h_pairs = [("x-hub-signature", "sha1=abc")];
    let h = lookup(&h_pairs);
    assert_eq!(
        verify(SignatureScheme::Github, secret, None, &h, b"", 0),
        Err(F::MissingHeader)
    );
    let h_pairs = [("x-hub-signature-256", "757107ea")];
    let h = lookup(&h_pairs);
    assert_eq!(
        verify(SignatureScheme::Github, secret, None, &h, b"", 0),
        Err(F::MalformedHeader)
    );
}

fn stripe_sig(secret: &[u8], t: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn stripe_checks_every_v1_then_the_window() {
    let secret = b"whsec_test";
    let body = br#"{"id":"evt_1","type":"charge.succeeded"}"#;
    let t = "1700000000";
    let at = 1_700_000_000_000;
    let good = stripe_sig(secret, t, body);
    let old = stripe_sig(b"whsec_rolled", t, body);
    let v = |value: String, now: i64| {
        let h_pairs = [("stripe-signature", value.as_str())];
        let h = lookup(&h_pairs);
        verify(
            SignatureScheme::Stripe,
            secret,
            Some(300_000),
            &h,
            body,
            now,
        )
    };
    assert_eq!(v(format!("t={t},v1={good}"), at), Ok(()));
    assert_eq!(
        v(format!("t={t},v1={old},v1={good},v0=zz"), at),
        Ok(()),
        "a rolled secret's v1 beside it"
    );
    assert_eq!(v(format!("t={t},v1={old}"), at), Err(F::BadSignature));
    assert_eq!(v(format!("t={t},v1=nothex"), at), Err(F::BadSignature));
    assert_eq!(
        v(format!("t={t},v1={good}"), at + 300_001),
        Err(F::StaleTimestamp)
    );
    assert_eq!(v(format!("v1={good}"), at), Err(F::MalformedHeader));
    assert_eq!(v(format!("t={t}"), at), Err(F::MalformedHeader));
    assert_eq!(v("garbage".into(), at), Err(F::MalformedHeader));
    // A timestamp that is not a number, signed as such: malformed, not stale.
    let weird = stripe_sig(secret, "soon", body);
    assert_eq!(v(format!("t=soon,v1={weird}"), at), Err(F::MalformedHeader));
    // The signed timestamp, not a replaced one: changing t breaks the signature.
    assert_eq!(
        v(format!("t=1700000001,v1={good}"), at),
        Err(F::BadSignature)
    );
}
