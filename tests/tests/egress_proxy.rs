//! TEST-PLAN N6: the host's proxy environment variables are ignored by the
//! sandbox's outbound transport. A proxy that a plugin's traffic went through
//! could read (and in a hostile environment, redirect) every request, including
//! injected credentials.
//!
//! The variables are process-global, so this file holds a single test, which
//! sets them before any runtime thread exists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{http::Uri, response::IntoResponse};
use serde_json::json;
use std::sync::{Arc, Mutex};
use weft_tests::{StandIn, TestSandbox, hosts};

const PROXY_VARS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

#[test]
fn n6_proxy_environment_variables_are_ignored() {
    let proxy_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy_listener.local_addr().unwrap());
    #[allow(unsafe_code)]
    // SAFETY: this is the only test in this binary and no runtime has been started
    // yet, so no other thread reads the environment while it changes.
    unsafe {
        for var in PROXY_VARS {
            std::env::set_var(var, &proxy_url);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        // The "proxy": records every request it gets and answers them itself.
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = seen.clone();
        let proxy = axum::Router::new().fallback(move |uri: Uri| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(uri.to_string());
                "answered by the proxy".into_response()
            }
        });
        proxy_listener.set_nonblocking(true).unwrap();
        let proxy_listener = tokio::net::TcpListener::from_std(proxy_listener).unwrap();
        tokio::spawn(async move { axum::serve(proxy_listener, proxy).await.unwrap() });

        let (api, inbox) = StandIn::scripted(|_| "answered by the api".into_response()).await;
        // A name (not an IP literal) so that no client could skip the proxy for a
        // loopback address on its own.
        let url = format!("http://api.partner.test:{}/resource", api.port());

        // The control: an ordinary client honours the variables, so the set-up
        // really would divert traffic that followed them.
        let ordinary = reqwest::Client::builder().build().unwrap();
        let body = ordinary
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "answered by the proxy");
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "the control request did not go through the proxy"
        );

        let sandbox = TestSandbox::new()
            .resolve("api.partner.test", "127.0.0.1")
            .build();
        let plugin = sandbox.plugin("fixture_hostile").await;
        let out = sandbox
            .run(
                &plugin,
                "http",
                json!({"url": url}),
                hosts(&["api.partner.test"]),
            )
            .await;
        let got = out.result.unwrap_or_else(|f| panic!("{f}"));
        assert_eq!(got["status"], 200, "{got}");
        assert_eq!(got["body"], "answered by the api");
        assert_eq!(inbox.only().uri, "/resource");
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "the sandbox's request went through the proxy: {:?}",
            seen.lock().unwrap()
        );
    });
}
