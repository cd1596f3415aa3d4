//! A connector project on disk: its language (by the file that marks it:
//! `Cargo.toml`, `pyproject.toml` or `package.json`), how it is built into a
//! component, and what `publish` reads from it (name, licence, repository).

use crate::args::Lang;
use anyhow::{Context, bail};
use serde::Deserialize;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A project directory and what its manifest says.
pub struct Project {
    pub lang: Lang,
    pub dir: PathBuf,
    pub license: Option<String>,
    pub repository: Option<String>,
    /// Rust only: where cargo puts the component.
    rust_component: Option<PathBuf>,
}

/// Detects the language of the project in `dir` and reads its manifest.
pub fn open(dir: &Path) -> anyhow::Result<Project> {
    let dir = &dir
        .canonicalize()
        .with_context(|| format!("{} is not a directory", dir.display()))?;
    let marks: Vec<(&str, Lang)> = [
        ("Cargo.toml", Lang::Rust),
        ("pyproject.toml", Lang::Python),
        ("package.json", Lang::Js),
    ]
    .into_iter()
    .filter(|(f, _)| dir.join(f).is_file())
    .collect();
    let lang = match marks.as_slice() {
        [(_, lang)] => *lang,
        [] => bail!(
            "{} is not a connector project: it has no Cargo.toml (Rust), pyproject.toml (Python) or package.json (JavaScript)",
            dir.display()
        ),
        many => bail!(
            "{} holds more than one project manifest ({}); keep one so the language is clear",
            dir.display(),
            many.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
        ),
    };
    match lang {
        Lang::Rust => rust(dir),
        Lang::Python => python(dir),
        Lang::Js => js(dir),
    }
}

impl Project {
    /// Builds the component and returns its path.
    pub fn build(&self) -> anyhow::Result<PathBuf> {
        let file = match self.lang {
            Lang::Rust => {
                super::cargo_build(&self.dir)?;
                self.rust_component
                    .clone()
                    .context("the crate's component path")?
            }
            Lang::Python => self.sdk_build(
                "python3",
                &["-m", "weft_sdk", "build"],
                "install Python 3.11 or newer",
            )?,
            Lang::Js => {
                let script = self.dir.join("node_modules/@weft/sdk/bin/weft-build.mjs");
                if !script.is_file() {
                    bail!(
                        "{} is missing: run `npm install` in {} first (it installs @weft/sdk and componentize-js)",
                        script.display(),
                        self.dir.display()
                    );
                }
                let script = script.to_string_lossy().into_owned();
                self.sdk_build("node", &[&script], "install Node.js 20 or newer")?
            }
        };
        if !file.is_file() {
            bail!(
                "the build finished but the component {} is not there",
                file.display()
            );
        }
        Ok(file)
    }

    /// Runs an SDK's build command in the project directory; the component
    /// is named on the last line of its standard output.
    fn sdk_build(&self, program: &str, args: &[&str], install: &str) -> anyhow::Result<PathBuf> {
        let shown = format!("{program} {}", args.join(" "));
        let out = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output();
        let out: Output = match out {
            Ok(o) => o,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                bail!("`{program}` was not found on PATH: {install}")
            }
            Err(e) => bail!("cannot run `{shown}` in {}: {e}", self.dir.display()),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        eprint!("{stderr}");
        if !out.status.success() {
            print!("{stdout}");
            if self.lang == Lang::Python && stderr.contains("No module named weft_sdk") {
                bail!(
                    "the weft_sdk Python package is not installed for `python3` on PATH: `pip install 'weft-sdk[build]'`, \
                     or from a Weft checkout `pip install '<checkout>/sdk/python[build]'` \
                     (scripts/python-plugins makes a virtual environment with it and componentize-py)"
                );
            }
            bail!("`{shown}` failed in {}", self.dir.display());
        }
        let mut lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
        let last = lines.pop().with_context(|| {
            format!("`{shown}` printed nothing; it should print the component's path last")
        })?;
        for l in lines {
            println!("{l}");
        }
        Ok(self.dir.join(last.trim()))
    }
}

/// What `cargo metadata` says about the crate.
#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    target_directory: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    license: Option<String>,
    repository: Option<String>,
}

fn rust(dir: &Path) -> anyhow::Result<Project> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run cargo metadata in {}", dir.display()))?;
    if !out.status.success() {
        bail!(
            "{} is not a connector crate (cargo metadata: {})",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let meta: Metadata = serde_json::from_slice(&out.stdout).context("cargo metadata's answer")?;
    let [pkg] = meta.packages.as_slice() else {
        bail!(
            "{} holds {} crates; run it in the connector's own directory",
            dir.display(),
            meta.packages.len()
        );
    };
    let file = meta
        .target_directory
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", pkg.name.replace('-', "_")));
    Ok(Project {
        lang: Lang::Rust,
        dir: dir.to_owned(),
        license: pkg.license.clone(),
        repository: pkg.repository.clone(),
        rust_component: Some(file),
    })
}

/// `pyproject.toml`, the parts read here (PEP 621).
#[derive(Deserialize)]
struct PyProject {
    project: Option<PyMeta>,
}

#[derive(Deserialize)]
struct PyMeta {
    license: Option<PyLicense>,
    #[serde(default)]
    urls: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PyLicense {
    /// PEP 639: an SPDX expression.
    Spdx(String),
    /// The older table form.
    Table { text: Option<String> },
}

fn python(dir: &Path) -> anyhow::Result<Project> {
    let path = dir.join("pyproject.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let doc: PyProject =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    let meta = doc
        .project
        .with_context(|| format!("{} has no [project] table", path.display()))?;
    let repository = ["Repository", "repository", "Source", "source"]
        .iter()
        .find_map(|k| meta.urls.get(*k).cloned());
    Ok(Project {
        lang: Lang::Python,
        dir: dir.to_owned(),
        license: match meta.license {
            Some(PyLicense::Spdx(s)) => Some(s),
            Some(PyLicense::Table { text }) => text,
            None => None,
        },
        repository,
        rust_component: None,
    })
}

/// `package.json`, the parts read here.
#[derive(Deserialize)]
struct PackageJson {
    license: Option<String>,
    repository: Option<Repository>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Repository {
    Url(String),
    Object { url: Option<String> },
}

fn js(dir: &Path) -> anyhow::Result<Project> {
    let path = dir.join("package.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let doc: PackageJson =
        serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    Ok(Project {
        lang: Lang::Js,
        dir: dir.to_owned(),
        license: doc.license,
        repository: match doc.repository {
            Some(Repository::Url(u)) => Some(u),
            Some(Repository::Object { url }) => url,
            None => None,
        },
        rust_component: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, anyhow::Result<Project>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let p = open(dir.path());
        (dir, p)
    }

    #[test]
    fn the_language_and_publish_metadata_come_from_the_manifest() {
        let (_d, p) = project(&[(
            "pyproject.toml",
            "[project]\nname = \"csv\"\nlicense = \"MIT\"\n[project.urls]\nRepository = \"https://example.com/csv\"\n",
        )]);
        let p = p.unwrap();
        assert_eq!(p.lang, Lang::Python);
        assert_eq!(p.license.as_deref(), Some("MIT"));
        assert_eq!(p.repository.as_deref(), Some("https://example.com/csv"));

        let (_d, p) = project(&[(
            "pyproject.toml",
            "[project]\nname = \"csv\"\nlicense = { text = \"Apache-2.0\" }\n",
        )]);
        let p = p.unwrap();
        assert_eq!(p.license.as_deref(), Some("Apache-2.0"));
        assert_eq!(p.repository, None);

        let (_d, p) = project(&[(
            "package.json",
            r#"{"name": "relay", "license": "MIT", "repository": {"type": "git", "url": "https://example.com/relay.git"}}"#,
        )]);
        let p = p.unwrap();
        assert_eq!(p.lang, Lang::Js);
        assert_eq!(p.license.as_deref(), Some("MIT"));
        assert_eq!(
            p.repository.as_deref(),
            Some("https://example.com/relay.git")
        );
    }

    #[test]
    fn no_manifest_or_two_manifests_are_named() {
        let (_d, p) = project(&[]);
        let e = p.err().unwrap().to_string();
        assert!(
            e.contains("has no Cargo.toml (Rust), pyproject.toml (Python) or package.json"),
            "{e}"
        );
        let (_d, p) = project(&[("pyproject.toml", "[project]\n"), ("package.json", "{}")]);
        let e = p.err().unwrap().to_string();
        assert!(
            e.contains("more than one project manifest (pyproject.toml, package.json)"),
            "{e}"
        );
        let (_d, p) = project(&[("pyproject.toml", "[tool.x]\n")]);
        let e = p.err().unwrap().to_string();
        assert!(e.contains("pyproject.toml has no [project] table"), "{e}");
    }
}
