//! `weft plugin new`: a connector project (Rust, Python or JavaScript) that
//! builds and passes its own scenario test (`tests/connector.json`) at once.

use crate::args::Lang;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// The local copy of the Rust SDK that the scaffold points at with a
/// `[patch.crates-io]` override: `WEFT_SDK_PATH` if set, else the `sdk/`
/// directory of the Weft checkout this binary was built from if it is still
/// there; `None` means the crate uses the registry's `weft-sdk` alone.
fn sdk_path() -> anyhow::Result<Option<PathBuf>> {
    if let Some(p) = std::env::var_os("WEFT_SDK_PATH") {
        let path = PathBuf::from(p);
        let ok = path.join("Cargo.toml").is_file();
        return match path.canonicalize() {
            Ok(p) if ok => Ok(Some(p)),
            _ => bail!(
                "WEFT_SDK_PATH={} is not the Rust SDK: it should be the `sdk` directory of a Weft checkout (with Cargo.toml)",
                path.display()
            ),
        };
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk");
    Ok(built_from
        .join("Cargo.toml")
        .is_file()
        .then(|| built_from.canonicalize().ok())
        .flatten())
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
}

/// The files of a scaffold: path in the project, contents with `{name}`,
/// `{module}` and (Rust) `{crate}`, `{patch}` still to fill.
pub type Files = &'static [(&'static str, &'static str)];

const RUST: Files = &[
    ("Cargo.toml", CARGO_TOML),
    ("src/lib.rs", LIB_RS),
    ("tests/connector.json", SCENARIO_JSON),
    (".gitignore", "/target\n"),
];

pub fn new(name: &str, parent: &Path, lang: Lang) -> anyhow::Result<()> {
    if !valid_name(name) {
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
    let module = name.replace('-', "_");
    let local_sdk = sdk_path()?;
    let patch = match lang {
        Lang::Rust => match &local_sdk {
            Some(sdk) => format!(
                "\n# The local Weft SDK instead of the registry's (remove to use the published one).\n\
                 [patch.crates-io]\nweft-sdk = {{ path = {:?} }}\n",
                sdk.to_string_lossy()
            ),
            None => String::new(),
        },
        _ => String::new(),
    };
    let files = match lang {
        Lang::Rust => RUST,
        Lang::Python => super::templates::PYTHON,
        Lang::Js => super::templates::JS,
    };
    for (path, text) in files {
        let out = dir.join(path);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = text
            .replace("{name}", name)
            .replace("{module}", &module)
            .replace("{crate}", &module)
            .replace("{patch}", &patch);
        std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    println!("created {}", dir.display());
    println!("next:\n  cd {}", dir.display());
    match lang {
        Lang::Rust => {
            if patch.is_empty() {
                println!(
                    "  # weft-sdk comes from the registry; set WEFT_SDK_PATH=<checkout>/sdk before `weft plugin new` to use a local copy"
                );
            }
            println!(
                "  weft plugin test        # builds the component, then runs tests/connector.json against it"
            );
            println!(
                "  weft plugin invoke target/wasm32-wasip2/release/{module}.wasm --action greet --input '{{\"name\":\"Ada\"}}'"
            );
        }
        Lang::Python => {
            match local_sdk.map(|s| s.join("python")).filter(|p| p.is_dir()) {
                Some(p) => println!(
                    "  pip install '{}[build]'   # once: the SDK and componentize-py (or scripts/python-plugins)",
                    p.display()
                ),
                None => println!(
                    "  pip install 'weft-sdk[build]'   # once: the SDK and componentize-py"
                ),
            }
            println!(
                "  weft plugin test        # builds dist/{name}.wasm with componentize-py, then runs tests/connector.json"
            );
            println!(
                "  weft plugin invoke dist/{name}.wasm --action greet --input '{{\"name\":\"Ada\"}}'"
            );
        }
        Lang::Js => {
            match local_sdk.map(|s| s.join("js")).filter(|p| p.is_dir()) {
                Some(p) => println!(
                    "  mkdir -p node_modules/@weft && ln -s {} node_modules/@weft/sdk   # the local SDK (run scripts/js-plugins once), or: npm install",
                    p.display()
                ),
                None => println!(
                    "  npm install             # first: @weft/sdk and componentize-js into node_modules"
                ),
            }
            println!(
                "  weft plugin test        # builds dist/{name}.wasm with componentize-js, then runs tests/connector.json"
            );
            println!(
                "  weft plugin invoke dist/{name}.wasm --action greet --input '{{\"name\":\"Ada\"}}'"
            );
        }
    }
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
weft-sdk = "0.1"
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true
panic = "abort"

# A standalone crate, even when created inside another workspace.
[workspace]
{patch}"#;

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

/// The greet connector's scenario test, the same in every language.
const SCENARIO_JSON: &str = include_str!("greet.json");
