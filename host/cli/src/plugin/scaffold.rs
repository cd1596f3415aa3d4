//! `weft plugin new`: a connector crate that builds and passes its own test at once.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// Where the SDK lives: `WEFT_SDK_PATH`, or the `sdk/` directory of the Weft
/// checkout this binary was built from.
fn sdk_path() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os("WEFT_SDK_PATH") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk"),
    };
    path.canonicalize().with_context(|| {
        format!(
            "the Weft SDK was not found at {}; set WEFT_SDK_PATH to the `sdk` directory of a Weft checkout",
            path.display()
        )
    })
}

pub fn new(name: &str, parent: &Path) -> anyhow::Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || name.starts_with('-')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        bail!(
            "`{name}` is not a valid connector name: use lower-case letters, digits and `-`, starting with a letter"
        );
    }
    let dir = parent.join(name);
    if dir.exists() {
        bail!(
            "{} already exists; choose another name or remove it",
            dir.display()
        );
    }
    let sdk = sdk_path()?;
    let sdk = sdk.to_string_lossy();
    let crate_ident = name.replace('-', "_");
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::create_dir_all(dir.join("tests"))?;
    let fill = |t: &str| {
        t.replace("{name}", name)
            .replace("{crate}", &crate_ident)
            .replace("{sdk}", &sdk)
    };
    std::fs::write(dir.join("Cargo.toml"), fill(CARGO_TOML))?;
    std::fs::write(dir.join("src/lib.rs"), fill(LIB_RS))?;
    std::fs::write(dir.join("tests/connector.rs"), fill(TEST_RS))?;
    std::fs::write(dir.join(".gitignore"), "/target\n")?;
    println!("created {}", dir.display());
    println!(
        "next:\n  cd {}\n  weft plugin test        # builds the component, then runs tests/connector.rs",
        dir.display()
    );
    println!(
        "  weft plugin invoke target/wasm32-wasip2/release/{crate_ident}.wasm --action greet --input '{{\"name\":\"Ada\"}}'"
    );
    Ok(())
}

const CARGO_TOML: &str = r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
weft-sdk = { path = "{sdk}" }
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[dev-dependencies]
weft-harness = { path = "{sdk}/harness" }

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true
panic = "abort"

# A standalone crate, even when created inside another workspace.
[workspace]
"#;

const LIB_RS: &str = r#"//! The `{name}` connector.

use serde::Deserialize;
use serde_json::{Value, json};
use weft_sdk::{Action, Call, Connector, Error, Manifest, Result};

struct Plugin;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Greet {
    name: String,
}

impl Connector for Plugin {
    fn manifest() -> Manifest {
        Manifest::new("{name}", env!("CARGO_PKG_VERSION"), "Describe what {name} does.").action(
            Action::new("greet", "Say hello.")
                .input_schema(json!({
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}},
                    "additionalProperties": false
                }))
                .output_schema(json!({
                    "type": "object",
                    "properties": {"message": {"type": "string"}}
                })),
        )
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "greet" => {
                let input: Greet = call.input()?;
                weft_sdk::log::info("greeting");
                Ok(json!({"message": format!("Hello, {}!", input.name)}))
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

weft_sdk::export!(Plugin);
"#;

const TEST_RS: &str = r#"//! Runs the built component in the real sandbox with a mocked host.
//! Build first: `weft plugin test` (or `cargo build --release --target wasm32-wasip2`).

use serde_json::json;
use weft_harness::{Error, Harness, component_path};

fn harness() -> Harness {
    let path = component_path(env!("CARGO_MANIFEST_DIR"), "{crate}").unwrap();
    Harness::load(path).unwrap()
}

#[test]
fn greets_by_name() {
    let out = harness().invoke("greet", json!({"name": "Ada"})).unwrap();
    assert_eq!(out, json!({"message": "Hello, Ada!"}));
}

#[test]
fn a_missing_name_is_invalid_input() {
    match harness().invoke("greet", json!({})) {
        Err(Error::Failed(f)) => {
            assert_eq!(f.kind.as_str(), "invalid_input");
            assert!(f.message.contains("name"), "{}", f.message);
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
}
"#;
