//! `lowbit bench` end to end: one op and a suite (tiny shapes), with the JSON (ceilings, every
//! result with its roofline) and the SVG roofline; bad flags, and flags the op does not take,
//! are errors that say why.

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
        // Flags an op does not take are refused, not ignored.
        (
            vec!["--op", "shift", "--variant", "x"],
            "--op shift does not take --variant",
        ),
        (
            vec!["--op", "ternary", "--w-dtype", "f32"],
            "does not take --w-dtype",
        ),
        (
            vec!["--w-format", "q4_0", "--w-dtype", "f32"],
            "--op matmul with --w-format does not take --w-dtype",
        ),
        (vec!["--op", "lmul", "--bits", "3"], "does not take --bits"),
        (
            vec!["--suite", "decode", "--x-dtype", "f32"],
            "--suite does not take --x-dtype",
        ),
        (
            vec!["--op", "bessel", "--m", "2", "--svg", "a.svg"],
            "does not take --svg",
        ),
        (
            vec!["--op", "bcq", "--device", "cpu"],
            "does not take --device",
        ),
        (
            vec!["--op", "ternary", "--x-dtype", "bf16"],
            "takes x i8, f32 or f16",
        ),
        (
            vec!["--w-format", "q4_0", "--x-dtype", "i8"],
            "takes x f32 or f16",
        ),
        // (--adapter cpu is given to every case here.)
        (
            vec!["--op", "bessel", "--n", "4"],
            "for the CPU alone, --device cpu",
        ),
        (
            vec!["--op", "bessel", "--device", "cpu"],
            "takes no --adapter",
        ),
        (
            vec!["--op", "bessel", "--suite", "decode"],
            "--op bessel does not take --suite",
        ),
    ] {
        let mut all = vec!["bench", "--adapter", "cpu", "--seconds", "0.01"];
        all.extend(args);
        let (ok, text) = lowbit(&all);
        assert!(!ok && text.contains(why), "{all:?}: {text}");
    }
}

#[test]
fn ternary_and_quantized_ops_take_the_x_dtype_asked_for() {
    for (args, line) in [
        (vec!["--op", "ternary", "--x-dtype", "f16"], "x f16 w tq2_0"),
        (vec!["--op", "ternary"], "x i8 w tq2_0"),
        (
            vec!["--w-format", "q4_0", "--x-dtype", "f16"],
            "x f16 w Q4_0",
        ),
        (vec!["--w-format", "q4_0"], "x f32 w Q4_0"),
    ] {
        let mut all = vec![
            "bench",
            "--seconds",
            "0.01",
            "--m",
            "2",
            "--n",
            "16",
            "--k",
            "256",
        ];
        all.extend(args);
        // The CPU backend and every GPU adapter.
        all.push("--all-adapters");
        let (ok, text) = lowbit(&all);
        assert!(ok, "{all:?}: {text}");
        let adapters = text.lines().filter(|l| l.starts_with("== ")).count();
        assert!(
            adapters >= 2,
            "the CPU and at least one GPU adapter: {text}"
        );
        assert_eq!(text.matches(line).count(), adapters, "{all:?}: {text}");
    }
}
