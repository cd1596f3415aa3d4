//! The subcommands' side of the typed client (`weft-client`): one
//! [`weft_client::Client`] for `--server` and `--api-key`, `--json` printing,
//! and the server's refusals printed once by [`finish`].

use super::ServerArgs;
use super::output::out;
use serde::Serialize;
use std::process::ExitCode;

/// A client of one server, and how to print its answers.
pub struct Cli {
    /// The typed client.
    pub api: weft_client::Client,
    /// Print the answer as JSON instead of text.
    pub json: bool,
}

impl Cli {
    /// A client for `args`.
    ///
    /// # Errors
    /// A server URL that is not http(s), or an API key that cannot be a header.
    pub fn new(args: &ServerArgs) -> anyhow::Result<Self> {
        Ok(Self {
            api: weft_client::Client::new(&args.server, args.api_key.as_deref())?,
            json: args.json,
        })
    }

    /// Prints `v` as pretty JSON when `--json` was given and returns `true`.
    ///
    /// # Errors
    /// Serialization failures (not expected for a wire type).
    pub fn raw<T: Serialize + ?Sized>(&self, v: &T) -> anyhow::Result<bool> {
        if self.json {
            out!("{}", serde_json::to_string_pretty(v)?);
        }
        Ok(self.json)
    }
}

/// Prints a refusal: `error: <code>: <message>` and each detail as
/// `  <path>: <message>`, with a hint on 401.
fn print(status: reqwest::StatusCode, e: &weft_model::ErrorDetail) {
    eprintln!("error: {}: {}", e.code, e.message);
    for d in &e.details {
        if d.path.is_empty() {
            eprintln!("  {}", d.message);
        } else {
            eprintln!("  {}: {}", d.path, d.message);
        }
    }
    if status == reqwest::StatusCode::UNAUTHORIZED {
        eprintln!(
            "hint: pass a valid key with --api-key or WEFT_API_KEY (`weft serve` prints one on first start)"
        );
    }
}

/// Turns the outcome of a subcommand into its exit code: 0 on success, 1 (after
/// printing it) when the server answered with its error envelope; anything else
/// (a bad argument, an unreachable server) is returned for `main` to print.
///
/// # Errors
/// Every error but a refusal.
pub fn finish(result: anyhow::Result<()>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => match e.downcast_ref::<weft_client::Error>() {
            Some(weft_client::Error::Api { status, error }) => {
                print(*status, error);
                Ok(ExitCode::from(1))
            }
            _ => Err(e),
        },
    }
}
