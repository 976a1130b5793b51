//! `lowbit validate --report`, `lowbit compare` and `lowbit validate --probes` end to end on the
//! CPU backend (quick; the GPU adapters are covered by tests/probes.rs and tests/report.rs).

mod common;

use std::path::PathBuf;

use lowbit::probes::PROBE_NAMES;
use lowbit::report::Report;

fn tmp(name: &str) -> PathBuf {
    common::tmp_file("cli-report", name)
}

fn lowbit(args: &[&str]) -> (bool, String) {
    common::lowbit_cli(args)
}

#[test]
fn report_then_compare() {
    let a = tmp("a.json");
    let (ok, text) = lowbit(&[
        "validate",
        "--adapter",
        "cpu",
        "--report",
        a.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let report: Report = serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    assert_eq!(report.adapters.len(), 1);
    assert_eq!(report.adapters[0].probes.len(), PROBE_NAMES.len());
    assert!(report.passed > 100 && report.failed == 0);
    let exact = report
        .cases
        .iter()
        .filter(|c| c.output_hash.is_some())
        .count();
    assert!(exact > 50, "{exact} cases with an output hash");

    let (ok, text) = lowbit(&["compare", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert!(ok && text.contains("\n0 differences"), "{text}");

    // Another machine whose bit-exact output and one case's error differ.
    let mut other = report.clone();
    let hashed = other
        .cases
        .iter()
        .position(|c| c.output_hash.is_some())
        .unwrap();
    other.cases[hashed].output_hash = Some("0000000000000000".into());
    let floaty = other.cases.iter().position(|c| c.op == "matmul").unwrap();
    other.cases[floaty].pass = false;
    other.cases[floaty].max_abs_err = 1.0;
    let b = tmp("b.json");
    std::fs::write(&b, serde_json::to_string(&other).unwrap()).unwrap();
    let (ok, text) = lowbit(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(text.contains("bit-exact output differs"), "{text}");
    assert!(text.contains("fails on the right only: matmul"), "{text}");
    assert!(text.contains("\n2 differences"), "{text}");

    let (ok, text) = lowbit(&["compare", a.to_str().unwrap(), "Cargo.toml"]);
    assert!(
        !ok && text.contains("Cargo.toml is not a `lowbit validate --report` file"),
        "{text}"
    );
    let (ok, text) = lowbit(&[
        "compare",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--right",
        "nvidia",
    ]);
    assert!(!ok && text.contains("no adapter matching"), "{text}");
}

#[test]
fn probes_print_every_probe() {
    let (ok, text) = lowbit(&["validate", "--probes", "--adapter", "cpu"]);
    assert!(ok, "{text}");
    for p in PROBE_NAMES {
        assert!(text.contains(p), "{p} missing:\n{text}");
    }
    assert!(text.contains("WGSL:"));
}
