//! Does a component fit the `connector` world?
//!
//! A connector may import the `weft:plugin` interfaces and a fixed, neutered subset of
//! WASI 0.2 (I/O streams, stdio, environment, exit, clocks, random, and filesystem
//! types with *no* preopened directories — so no file is reachable). It may also
//! import `wasi:sockets` 0.2: the interpreters that Python and JavaScript connectors
//! are built with (componentize-py, componentize-js) import it whether or not the
//! connector opens a socket, so it is linked, and every call that would create a
//! socket, bind, connect or resolve a name is refused by the WASI context (the only
//! way out is the `http` import). It must export `weft:plugin/plugin@0.1.x`.
//! Everything else — `wasi:http`, other WASI interfaces, any other package — is
//! refused, and the refusal names every import that does not fit. It may also
//! export `weft:plugin/trigger@0.1.x` (polling triggers); if it does, the
//! interface must have both its functions.

use wasmtime::Engine;
use wasmtime::component::{Component, types::ComponentItem};

/// WASI 0.2 interfaces the sandbox provides (in a neutered form; see the module docs).
pub const PROVIDED_WASI: &[&str] = &[
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
];

/// WASI 0.2 interfaces that are linked but whose every call that reaches the
/// network is refused (see the module docs): a connector may import them, and
/// can do nothing with them but get `access-denied`.
pub const DENIED_WASI: &[&str] = &[
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
];

/// `weft:plugin` interfaces a connector may import.
pub const PROVIDED_WEFT: &[&str] = &[
    "weft:plugin/types",
    "weft:plugin/log",
    "weft:plugin/state",
    "weft:plugin/http",
];

/// Where an accepted import comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A `weft:plugin` interface.
    Weft,
    /// A neutered WASI interface.
    Wasi,
    /// A WASI interface linked only so the component can be instantiated: every
    /// call that would reach the network is refused ([`DENIED_WASI`]).
    Denied,
}

/// One import of a component that fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Full name, e.g. `wasi:io/streams@0.2.4`.
    pub name: String,
    /// Which family it belongs to.
    pub origin: Origin,
}

/// What a fitting component imports and exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Accepted imports, sorted by name.
    pub imports: Vec<Import>,
    /// Export names, sorted.
    pub exports: Vec<String>,
}

impl Shape {
    /// Whether the component exports the optional `weft:plugin/trigger`
    /// interface (polling triggers).
    pub fn has_triggers(&self) -> bool {
        self.exports
            .iter()
            .any(|n| split_version(n).0 == crate::TRIGGER_EXPORT)
    }
}

/// The component does not fit the world; each problem is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the component does not fit the weft:plugin/connector@0.1 world:\n  - {}", problems.join("\n  - "))]
pub struct Misfit {
    /// One line per import or export that does not fit.
    pub problems: Vec<String>,
}

/// Splits `ns:pkg/iface@ver` into (`ns:pkg/iface`, `ver`).
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (name, None),
    }
}

fn version_ok(version: Option<&str>, major_minor: &str) -> bool {
    version.is_some_and(|v| v == major_minor || v.starts_with(&format!("{major_minor}.")))
}

/// Checks a compiled component's imports and exports against the world.
///
/// # Errors
/// A [`Misfit`] listing every import that is not provided and every required export
/// that is missing or of the wrong kind.
pub fn check(engine: &Engine, component: &Component) -> Result<Shape, Misfit> {
    let ty = component.component_type();
    let mut problems = Vec::new();
    let mut imports = Vec::new();
    for (name, ext) in ty.imports(engine) {
        let (base, version) = split_version(name);
        let origin = if PROVIDED_WEFT.contains(&base) {
            version_ok(version, "0.1").then_some(Origin::Weft).ok_or_else(|| {
                format!(
                    "import `{name}`: this host provides weft:plugin@0.1.x; rebuild against wit/ of this Weft version"
                )
            })
        } else if PROVIDED_WASI.contains(&base) {
            version_ok(version, "0.2")
                .then_some(Origin::Wasi)
                .ok_or_else(|| format!("import `{name}`: only WASI 0.2.x is provided"))
        } else if DENIED_WASI.contains(&base) {
            version_ok(version, "0.2")
                .then_some(Origin::Denied)
                .ok_or_else(|| format!("import `{name}`: only WASI 0.2.x is provided"))
        } else if base.starts_with("wasi:sockets/") {
            Err(format!(
                "import `{name}`: this wasi:sockets interface is not provided (plugins reach the network only through the weft:plugin/http import)"
            ))
        } else if base.starts_with("wasi:http/") {
            Err(format!(
                "import `{name}`: wasi:http is not granted to plugins; use the weft:plugin/http import"
            ))
        } else if base.starts_with("wasi:") {
            Err(format!(
                "import `{name}`: this WASI interface is not part of the connector world"
            ))
        } else {
            Err(format!("import `{name}`: not part of the connector world"))
        };
        match (origin, ext.ty) {
            (Ok(origin), ComponentItem::ComponentInstance(_)) => imports.push(Import {
                name: name.to_owned(),
                origin,
            }),
            (Ok(_), _) => problems.push(format!("import `{name}` must be an interface instance")),
            (Err(p), _) => problems.push(p),
        }
    }
    let mut exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_owned()).collect();
    exports.sort();
    let plugin = ty
        .exports(engine)
        .find(|(n, _)| split_version(n).0 == crate::EXPORT);
    match plugin {
        None => problems.push(format!(
            "missing export `{}@0.1.x` (the component exports: {})",
            crate::EXPORT,
            if exports.is_empty() {
                "nothing".to_owned()
            } else {
                exports.join(", ")
            }
        )),
        Some((name, ext)) => {
            if !version_ok(split_version(name).1, "0.1") {
                problems.push(format!(
                    "export `{name}`: this host runs weft:plugin@0.1.x connectors"
                ));
            } else if let ComponentItem::ComponentInstance(inst) = ext.ty {
                for func in ["describe", "invoke"] {
                    match inst.get_export(engine, func).map(|e| e.ty) {
                        Some(ComponentItem::ComponentFunc(_)) => {}
                        Some(_) => {
                            problems.push(format!("export `{name}`: `{func}` is not a function"))
                        }
                        None => {
                            problems.push(format!("export `{name}`: missing function `{func}`"))
                        }
                    }
                }
            } else {
                problems.push(format!("export `{name}` must be an interface instance"));
            }
        }
    }
    // The trigger interface is optional; when exported it must be whole.
    if let Some((name, ext)) = ty
        .exports(engine)
        .find(|(n, _)| split_version(n).0 == crate::TRIGGER_EXPORT)
    {
        if !version_ok(split_version(name).1, "0.1") {
            problems.push(format!(
                "export `{name}`: this host runs weft:plugin@0.1.x triggers"
            ));
        } else if let ComponentItem::ComponentInstance(inst) = ext.ty {
            for func in ["describe-triggers", "poll"] {
                match inst.get_export(engine, func).map(|e| e.ty) {
                    Some(ComponentItem::ComponentFunc(_)) => {}
                    Some(_) => {
                        problems.push(format!("export `{name}`: `{func}` is not a function"))
                    }
                    None => problems.push(format!("export `{name}`: missing function `{func}`")),
                }
            }
        } else {
            problems.push(format!("export `{name}` must be an interface instance"));
        }
    }
    if problems.is_empty() {
        imports.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Shape { imports, exports })
    } else {
        Err(Misfit { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_semver_families() {
        assert!(version_ok(Some("0.2.4"), "0.2"));
        assert!(version_ok(Some("0.2"), "0.2"));
        assert!(!version_ok(Some("0.20.0"), "0.2"));
        assert!(!version_ok(None, "0.2"));
        assert_eq!(
            split_version("wasi:io/error@0.2.0"),
            ("wasi:io/error", Some("0.2.0"))
        );
    }
}
