//! Every workflow in `examples/` parses and validates against the manifests of
//! the bundled connectors (built by `scripts/test` before the suite runs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use weft_engine::{DefinitionLimits, Format, definition, validate};
use weft_sandbox::{Options, Sandbox};
use weft_tests::wasm_dir;
use weft_types::Manifest;

/// The examples the documentation points to; each must exist.
const EXPECTED: &[&str] = &[
    "airtable-orders.yaml",
    "approval.yaml",
    "discord-release-announce.yaml",
    "email-welcome.yaml",
    "github-issue-from-alert.yaml",
    "github-new-release-to-slack.yaml",
    "gmail-invoice-to-sheets.yaml",
    "llm-summary.yaml",
    "llm-tools-weather.yaml",
    "loop-http.yaml",
    "nightly-report.yaml",
    "notion-log-form.yaml",
    "rss-to-slack.yaml",
    "s3-archive-webhook.yaml",
    "sheets-new-order-to-slack.yaml",
    "slack-on-condition.yaml",
    "stripe-customer-on-signup.yaml",
    "teams-deploy-notice.yaml",
    "telegram-alert.yaml",
    "twilio-sms-on-order.yaml",
    "webhook-transform-respond.yaml",
];

/// The bundled connectors (`scripts/run`'s loop) whose manifests the examples use.
const BUNDLED: &[&str] = &[
    "http",
    "transform",
    "llm",
    "slack",
    "github",
    "stripe",
    "discord",
    "twilio",
    "notion",
    "airtable",
    "email",
    "telegram",
    "teams",
    "rss",
    "sheets",
    "gmail",
    "s3",
];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

async fn bundled_manifests() -> Vec<Manifest> {
    let options = Options {
        cache_dir: Some(std::env::temp_dir().join("weft-examples-test-cache")),
        ..Options::default()
    };
    let sandbox = Sandbox::new(options).unwrap();
    let mut manifests = Vec::new();
    for name in BUNDLED {
        let path = wasm_dir().join(format!("weft_plugin_{name}.wasm"));
        let plugin = sandbox.load_file(&path).await.unwrap_or_else(|e| {
            panic!(
                "{}: {e}. Build the guest components first: `scripts/test` does it.",
                path.display()
            )
        });
        manifests.push(plugin.manifest().clone());
    }
    manifests
}

#[tokio::test]
async fn every_example_parses_and_validates_against_the_bundled_connectors() {
    let catalog = bundled_manifests().await;
    let limits = DefinitionLimits::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in EXPECTED {
        assert!(
            names.iter().any(|n| n == expected),
            "examples/{expected} is missing (found: {names:?})"
        );
    }

    let mut failures = Vec::new();
    for (file, name) in files.iter().zip(&names) {
        let bytes = std::fs::read(file).unwrap();
        match definition::parse(&bytes, Format::Yaml, &limits) {
            Err(e) => {
                for p in e.problems() {
                    failures.push(format!("examples/{name}: {p}"));
                }
            }
            Ok(def) => {
                for p in validate::check(&def, &catalog, &limits) {
                    failures.push(format!("examples/{name}: {p}"));
                }
                // Examples show the current forms (no workflow-wide credential grants).
                for p in validate::warnings(&def, &catalog) {
                    failures.push(format!("examples/{name}: warning: {p}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in examples/:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_example_opens_with_a_header_saying_how_to_run_it() {
    for name in EXPECTED {
        let text = std::fs::read_to_string(examples_dir().join(name)).unwrap();
        assert!(
            text.starts_with("# "),
            "examples/{name} must open with a comment header"
        );
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        for needle in [
            format!("weft run examples/{name}"),
            format!("weft workflows create examples/{name}"),
            "weft workflows activate".to_owned(),
            "curl ".to_owned(),
        ] {
            assert!(
                header.contains(&needle),
                "the header of examples/{name} does not show `{needle}`"
            );
        }
    }
}
