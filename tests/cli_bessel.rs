//! `lowbit bessel` end to end: columns in any order, round-trip output, errors that name the
//! line and write nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    common::tmp_file("cli-bessel", name)
}

fn lowbit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lowbit"))
        .args(args)
        .output()
        .expect("run lowbit")
}

/// `lowbit bessel --input input --output output` with `flags`.
fn bessel(input: &Path, output: &Path, flags: &[&str]) -> std::process::Output {
    let mut args = vec![
        "bessel",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend(flags);
    lowbit(&args)
}

/// A run that failed saying `message` and wrote no output.
fn assert_refused(out: &std::process::Output, output: &Path, message: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what} should fail");
    assert!(stderr.contains(message), "{what}: {stderr}");
    assert!(!output.exists(), "{what} wrote {output:?}");
}

#[test]
fn computes_every_row_and_prints_round_trip_floats() {
    let input = tmp("in.csv");
    std::fs::write(&input, "x,label,v\n1e-8,a,0\n2.5,b,1.5\n1e5,c,98162.25\n").unwrap();
    for device in ["cpu", "gpu"] {
        let output = tmp(&format!("out-{device}.csv"));
        let out = bessel(&input, &output, &["--device", device]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{device}: {stderr}");
        assert!(stderr.contains("evaluations/s"), "{stderr}");
        let text = std::fs::read_to_string(&output).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("v,x,log_iv,log_kv"));
        let tol = if device == "cpu" { 1e-14 } else { 2e-6 };
        for (line, (v, x)) in lines.zip([(0.0, 1e-8), (1.5, 2.5), (98162.25, 1e5)]) {
            let f: Vec<f64> = line.split(',').map(|s| s.parse().unwrap()).collect();
            assert_eq!((f[0], f[1]), (v, x), "{line}");
            let (li, lk) = lowbit::kernels::bessel::log_ikv(v, x);
            for (got, want) in [(f[2], li), (f[3], lk)] {
                assert!((got - want).abs() <= tol * want.abs().max(1.0), "{line}");
            }
        }
    }
}

#[test]
fn bad_rows_are_errors_naming_the_line_and_nothing_is_written() {
    let cases = [
        ("v,x\n1,2\n-1,3\n", "line 3: v = -1 is negative"),
        ("v,x\n1,2\n2,abc\n", "line 3: x = 'abc' is not a number"),
        ("v,x\n1,2\n3\n", "line 3: missing x"),
        ("v,x\n1,nan\n", "line 2: x = 'nan' is not finite"),
        ("a,x\n1,2\n", "no column 'v'"),
    ];
    for (i, (text, message)) in cases.iter().enumerate() {
        let input = tmp(&format!("bad{i}.csv"));
        let output = tmp(&format!("bad{i}-out.csv"));
        std::fs::write(&input, text).unwrap();
        let out = bessel(&input, &output, &["--device", "cpu"]);
        assert_refused(&out, &output, message, &format!("case {i}"));
    }
}

#[test]
fn flags_that_do_not_go_together_are_errors() {
    let input = tmp("flags.csv");
    let output = tmp("flags-out.csv");
    std::fs::write(&input, "v,x\n1,2\n").unwrap();
    for (flags, message) in [
        (
            &["--device", "cpu", "--adapter", "0"][..],
            "takes no --adapter",
        ),
        (&["--device", "gpu", "--adapter", "cpu"][..], "is the CPU"),
        (
            &["--adapter", "cpu", "--precision", "f32"][..],
            "always computes in f64",
        ),
        (&["--device", "tpu"][..], "must be cpu or gpu"),
    ] {
        let out = bessel(&input, &output, flags);
        assert_refused(&out, &output, message, &format!("{flags:?}"));
    }
    // `--adapter cpu` alone names the CPU's f64 kernels.
    let out = bessel(&input, &output, &["--adapter", "cpu"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
