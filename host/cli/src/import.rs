//! `weft import n8n FILE`: an n8n export as a Weft definition
//! (`weft_engine::import`, docs/IMPORT.md). The definition goes to standard
//! output (or `--output`), the report to standard error; it is not saved:
//! `weft workflows create` (or `validate`) takes the file.

use std::process::ExitCode;

use anyhow::{Context, bail};
use weft_engine::import::n8n::{Options, import};

use crate::args::ImportN8nArgs;

pub fn n8n(a: ImportN8nArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    let export: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", a.file.display()))?;
    let mut options = Options::default();
    for w in &a.workflows {
        let Some((n8n, weft)) = w.split_once('=') else {
            bail!("--workflow {w}: expected N8N_ID=WEFT_ID");
        };
        options.workflows.insert(n8n.to_owned(), weft.to_owned());
    }
    let out = import(&export, &options).with_context(|| format!("{}", a.file.display()))?;
    let json = serde_json::to_string_pretty(&out.definition)? + "\n";
    match &a.output {
        Some(path) => std::fs::write(path, json)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{json}"),
    }
    for n in &out.notes {
        if n.node.is_empty() {
            eprintln!("note: {}", n.message);
        } else {
            eprintln!("note: {}: {}", n.node, n.message);
        }
    }
    eprintln!(
        "imported {} ({} note(s)); save it with `weft workflows create FILE`",
        a.file.display(),
        out.notes.len()
    );
    Ok(ExitCode::SUCCESS)
}
