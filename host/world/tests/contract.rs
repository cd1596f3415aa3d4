//! The WIT contract is snapshot-tested: any change to `wit/` shows up in review as a
//! change to `tests/snapshots/contract__resolved_wit.snap`, and must follow the
//! versioning policy in docs/WIT.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wit_parser::Resolve;

fn resolve() -> (Resolve, wit_parser::PackageId) {
    let mut resolve = Resolve::default();
    let (pkg, _files) = resolve
        .push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../wit"))
        .unwrap();
    (resolve, pkg)
}

#[test]
fn resolved_wit() {
    let (resolve, pkg) = resolve();
    let mut printer = wit_component::WitPrinter::default();
    printer.print(&resolve, pkg, &[]).unwrap();
    insta::assert_snapshot!(printer.output.to_string());
}

#[test]
fn package_version_matches_the_host_constants() {
    let (resolve, pkg) = resolve();
    let name = &resolve.packages[pkg].name;
    assert_eq!(
        format!("{}:{}", name.namespace, name.name),
        weft_world::PACKAGE
    );
    assert_eq!(
        name.version.as_ref().unwrap().to_string(),
        weft_world::VERSION
    );
    let world = resolve.select_world(&[pkg], Some("connector")).unwrap();
    let exports: Vec<String> = resolve.worlds[world]
        .exports
        .keys()
        .map(|k| resolve.name_world_key(k))
        .collect();
    assert_eq!(
        exports,
        vec![format!("{}@{}", weft_world::EXPORT, weft_world::VERSION)]
    );
}

#[test]
fn every_weft_import_of_the_world_is_provided_by_the_host() {
    let (resolve, pkg) = resolve();
    let world = resolve.select_world(&[pkg], Some("connector")).unwrap();
    for key in resolve.worlds[world].imports.keys() {
        let name = resolve.name_world_key(key);
        let base = name.split('@').next().unwrap();
        assert!(
            weft_world::fit::PROVIDED_WEFT.contains(&base),
            "{name} is imported by the world but not provided"
        );
    }
}
