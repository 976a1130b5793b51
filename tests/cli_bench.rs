//! `lowbit bench` end to end: one op and a suite (tiny shapes), with the JSON (ceilings, every
//! result with its roofline) and the SVG roofline; bad flags are errors that say why.

mod common;

use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    common::tmp_file("cli-bench", name)
}

fn lowbit(args: &[&str]) -> (bool, String) {
    common::lowbit_cli(args)
}

fn check_doc(json: &PathBuf, svg: &PathBuf, results: usize, adapters: usize) {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(doc["ceilings"].as_array().unwrap().len(), adapters);
    let rs = doc["results"].as_array().unwrap();
    assert_eq!(rs.len(), results);
    for r in rs {
        let frac = r["fraction_of_bound"].as_f64().unwrap();
        assert!(frac.is_finite() && frac > 0.0, "{r}");
        assert!(["memory", "compute"].contains(&r["roofline"]["bound"].as_str().unwrap()));
        assert!(r["min_ms"].as_f64().unwrap() <= r["time_ms"].as_f64().unwrap());
        assert!(r["time_ms"].as_f64().unwrap() <= r["max_ms"].as_f64().unwrap());
    }
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.starts_with("<svg"));
    assert_eq!(
        svg.matches("<circle").count(),
        results,
        "one point per result"
    );
}

#[test]
fn one_op_with_json_and_svg() {
    let (json, svg) = (tmp("one.json"), tmp("one.svg"));
    let (ok, text) = lowbit(&[
        "bench",
        "--adapter",
        "cpu",
        "--m",
        "3",
        "--n",
        "64",
        "--k",
        "96",
        "--seconds",
        "0.01",
        "--json",
        json.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("ceilings") && text.contains("roofline") && text.contains("of bound"));
    check_doc(&json, &svg, 1, 1);
}

#[test]
fn suite_over_every_adapter() {
    let gpus = common::gpu_contexts().len();
    let (json, svg) = (tmp("suite.json"), tmp("suite.svg"));
    let mut args = vec![
        "bench",
        "--suite",
        "decode",
        "--shapes",
        "64x256,33x512",
        "--formats",
        "f16,q4_0,tq2_0",
        "--seconds",
        "0.01",
        "--json",
        json.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ];
    args.extend(if gpus > 0 {
        ["--all-adapters", ""]
    } else {
        ["--adapter", "cpu"]
    });
    args.retain(|a| !a.is_empty());
    let (ok, text) = lowbit(&args);
    assert!(ok, "{text}");
    // 2 shapes × 2 token counts × 3 formats per adapter.
    let adapters = if gpus > 0 { gpus + 1 } else { 1 };
    check_doc(&json, &svg, 12 * adapters, adapters);
}

#[test]
fn bad_flags_say_why() {
    for (args, why) in [
        (vec!["--suite", "decode", "--shapes", "64"], "is not NxK"),
        (vec!["--suite", "decode", "--shapes", "0x64"], "N, K ≥ 1"),
        (vec!["--formats", "f16"], "go with --suite"),
        (vec!["--suite", "lunch"], "unknown suite"),
        (
            vec![
                "--suite",
                "decode",
                "--shapes",
                "8x256",
                "--formats",
                "q9_9",
            ],
            "unknown weight format",
        ),
    ] {
        let mut all = vec!["bench", "--adapter", "cpu", "--seconds", "0.01"];
        all.extend(args);
        let (ok, text) = lowbit(&all);
        assert!(!ok && text.contains(why), "{all:?}: {text}");
    }
}
