//! Validation reports: they survive a JSON round trip (NaN included), and `compare` names each
//! kind of difference between two adapters.

use lowbit::probes::ProbeResult;
use lowbit::report::{compare, AdapterReport, Difference, Report, Side};
use lowbit::validate::{output_hash, CaseResult};
use std::collections::BTreeMap;

fn adapter(name: &str, features: &[&str], fma: &str) -> AdapterReport {
    AdapterReport {
        name: name.into(),
        backend: "vulkan".into(),
        device_type: "cpu".into(),
        driver: "test".into(),
        features: features.iter().map(|s| s.to_string()).collect(),
        limits: BTreeMap::new(),
        probes: vec![ProbeResult {
            probe: "fma_fused".into(),
            observed: fma.into(),
            detail: String::new(),
            strict: Some(fma == "fused"),
            wgsl: "either".into(),
        }],
    }
}

fn case(adapter: &str, op: &str, variant: &str, pass: bool) -> CaseResult {
    CaseResult {
        adapter: adapter.into(),
        backend: String::new(),
        op: op.into(),
        x_dtype: "i8".into(),
        w_dtype: "i8".into(),
        variant: variant.into(),
        m: 1,
        n: 3,
        k: 17,
        max_abs_err: if pass { 0.0 } else { 2.0 },
        bound: 0.0,
        pass,
        error: None,
        nonfinite: 0,
        output_hash: None,
    }
}

#[test]
fn output_hash_is_fnv1a_64() {
    // The FNV-1a 64 offset basis and the published vector for "a".
    assert_eq!(output_hash::<u8>(&[]), "cbf29ce484222325");
    assert_eq!(output_hash(b"a"), "af63dc4c8601ec8c");
}

#[test]
fn a_report_survives_json_with_nan_errors() {
    let mut c = case("A", "matmul", "gemv", false);
    c.max_abs_err = f64::NAN;
    c.nonfinite = 3;
    let report = Report::new(vec![adapter("A", &["subgroups"], "fused")], vec![c]);
    let text = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert!(back.cases[0].max_abs_err.is_nan());
    assert_eq!(back.cases[0].nonfinite, 3);
    assert_eq!((back.passed, back.failed), (0, 1));
    assert_eq!(back.adapters[0].probes, report.adapters[0].probes);
}

#[test]
fn compare_names_every_kind_of_difference() {
    let mut same_a = case("A", "lmul", "gemv", true);
    same_a.output_hash = Some("1111".into());
    let mut same_b = case("B", "lmul", "gemv", true);
    same_b.output_hash = Some("1111".into());
    let mut exact_a = case("A", "matmul_i8", "dp4", true);
    exact_a.output_hash = Some("aaaa".into());
    // Another variant on the right, same op and shape: its output must still agree.
    let mut exact_b = case("B", "matmul_i8", "portable", true);
    exact_b.output_hash = Some("bbbb".into());
    let mut nan_b = case("B", "matmul", "gemv", false);
    nan_b.nonfinite = 1;
    let left = Report::new(
        vec![adapter("A", &["shader-f16", "subgroups"], "fused")],
        vec![
            same_a,
            exact_a,
            case("A", "matmul", "gemv", true),
            case("A", "w8a8", "dp4", true),
            case("A", "log_bessel", "f64", true),
        ],
    );
    let right = Report::new(
        vec![adapter("B", &["shader-f16"], "rounded")],
        vec![same_b, exact_b, nan_b, case("B", "w8a8", "dp4", false)],
    );
    let (l, r) = (
        left.adapter(None).unwrap(),
        right.adapter(Some("b")).unwrap(),
    );
    let diffs = compare(&left, l, &right, r);
    let has = |d: &Difference| diffs.contains(d);
    assert!(has(&Difference::Feature("subgroups".into(), Side::Left)));
    assert!(has(&Difference::Probe(
        "fma_fused".into(),
        "fused".into(),
        "rounded".into()
    )));
    assert!(has(&Difference::BitExact("matmul_i8 i8×i8 1×3×17".into())));
    assert!(has(&Difference::NonFinite(
        "matmul i8×i8 1×3×17".into(),
        Side::Right
    )));
    let fails = diffs
        .iter()
        .filter(|d| matches!(d, Difference::FailsOnOneSide(_, Side::Right, _)))
        .count();
    assert_eq!(fails, 2, "{diffs:?}");
    assert!(diffs.iter().any(
        |d| matches!(d, Difference::OnlyOneSide(Side::Left, 1, e) if e.starts_with("log_bessel"))
    ));
    // Agreeing outputs and equal probes are not differences.
    assert!(!diffs
        .iter()
        .any(|d| matches!(d, Difference::BitExact(k) if k.starts_with("lmul"))));
    assert_eq!(diffs.len(), 7, "{diffs:#?}");
    // An adapter compared with itself has none.
    assert!(compare(&left, l, &left, l).is_empty());
}

#[test]
fn two_adapters_of_one_name_are_told_apart_by_backend() {
    // lavapipe and llvmpipe GL both call themselves "llvmpipe (...)".
    let mut vk = case("llvmpipe", "matmul_i8", "dp4", true);
    vk.backend = "vulkan".into();
    vk.output_hash = Some("aaaa".into());
    let mut gl = case("llvmpipe", "matmul_i8", "dp4", true);
    gl.backend = "gl".into();
    gl.output_hash = Some("bbbb".into());
    let mut gl_adapter = adapter("llvmpipe", &[], "fused");
    gl_adapter.backend = "gl".into();
    let report = Report::new(
        vec![adapter("llvmpipe", &[], "fused"), gl_adapter],
        vec![vk, gl],
    );
    // The selectors `--adapter` takes: backend names and their aliases, indices, names.
    let (l, r) = (
        report.adapter(Some("vk")).unwrap(),
        report.adapter(Some("gles")).unwrap(),
    );
    assert_eq!((l.backend.as_str(), r.backend.as_str()), ("vulkan", "gl"));
    assert_eq!(report.adapter(Some("1")).unwrap().backend, "gl");
    assert_eq!(report.adapter(Some("LLVM")).unwrap().backend, "vulkan");
    assert!(report.adapter(Some("7")).is_none());
    let diffs = compare(&report, l, &report, r);
    assert_eq!(
        diffs,
        vec![Difference::BitExact("matmul_i8 i8×i8 1×3×17".into())]
    );
}
