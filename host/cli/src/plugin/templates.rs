//! The Python and JavaScript scaffolds: the SDKs' own template files,
//! embedded at build time (`sdk/python/template`, `sdk/js/template`).

/// `weft plugin new NAME --lang python`.
pub const PYTHON: super::scaffold::Files = &[
    (
        "pyproject.toml",
        include_str!("../../../../sdk/python/template/pyproject.toml"),
    ),
    (
        "app.py",
        include_str!("../../../../sdk/python/template/app.py"),
    ),
    (
        "tests/connector.json",
        include_str!("../../../../sdk/python/template/tests/connector.json"),
    ),
    (
        ".gitignore",
        include_str!("../../../../sdk/python/template/gitignore"),
    ),
];

/// `weft plugin new NAME --lang js`.
pub const JS: super::scaffold::Files = &[
    (
        "package.json",
        include_str!("../../../../sdk/js/template/package.json"),
    ),
    (
        "src/index.js",
        include_str!("../../../../sdk/js/template/src/index.js"),
    ),
    (
        "tests/connector.json",
        include_str!("../../../../sdk/js/template/tests/connector.json"),
    ),
    (
        ".gitignore",
        include_str!("../../../../sdk/js/template/gitignore"),
    ),
];

#[cfg(test)]
mod tests {
    /// Every language's scaffold carries the same greet scenario.
    #[test]
    fn every_scaffold_has_the_same_scenario() {
        let rust = include_str!("greet.json");
        for (lang, files) in [("python", super::PYTHON), ("js", super::JS)] {
            let (_, json) = files
                .iter()
                .find(|(p, _)| *p == "tests/connector.json")
                .unwrap_or_else(|| panic!("{lang}: no tests/connector.json"));
            let a: serde_json::Value = serde_json::from_str(rust).unwrap();
            let b: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(a, b, "{lang}'s template scenario differs from the Rust one");
        }
    }
}
