//! Quick throughput check of the f64 log-Bessel batch on the reference-like mixture:
//! `cargo run --release -p lowbit-kernels --example bessel_speed [n]`.
use lowbit_kernels::bessel::{log_ikv_slice, log_iv_slice, log_kv_slice, mixture, Region};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |s| s.parse().unwrap());
    let (v, x) = mixture(n, 1);
    let mut out = vec![0.0; n];
    let mut pair = vec![(0.0, 0.0); n];
    for region in [Region::Small, Region::Uniform] {
        let (rv, rx): (Vec<f64>, Vec<f64>) = v
            .iter()
            .zip(&x)
            .filter(|&(&v, &x)| Region::of(v, x) == region)
            .map(|(&v, &x)| (v, x))
            .unzip();
        let mut o = vec![0.0; rv.len()];
        let t = Instant::now();
        log_iv_slice(&rv, &rx, &mut o, 1).unwrap();
        let ti = t.elapsed().as_secs_f64();
        let t = Instant::now();
        log_kv_slice(&rv, &rx, &mut o, 1).unwrap();
        let tk = t.elapsed().as_secs_f64();
        println!(
            "{:8}: {} points, log I {:.0} ns, log K {:.0} ns",
            region.name(),
            rv.len(),
            ti / rv.len() as f64 * 1e9,
            tk / rv.len() as f64 * 1e9
        );
    }
    small_breakdown(&v, &x);
    uniform_breakdown(&v, &x);
    for threads in [1, 2] {
        for _ in 0..2 {
            let t = Instant::now();
            log_iv_slice(&v, &x, &mut out, threads).unwrap();
            let ti = t.elapsed().as_secs_f64();
            let t = Instant::now();
            log_kv_slice(&v, &x, &mut out, threads).unwrap();
            let tk = t.elapsed().as_secs_f64();
            let t = Instant::now();
            log_ikv_slice(&v, &x, &mut pair, threads).unwrap();
            let tp = t.elapsed().as_secs_f64();
            println!(
                "threads {threads}: log I {:.2e}/s, log K {:.2e}/s, both {:.2e} pairs/s",
                n as f64 / ti,
                n as f64 / tk,
                n as f64 / tp
            );
        }
    }
}

/// Time per point of the small region's K, split by its start (Temme or CF2) and order.
fn small_breakdown(v: &[f64], x: &[f64]) {
    for (name, lo, hi, vmax) in [
        ("temme x<=2, v<1", 0.0, 2.0, 1.0),
        ("temme x<=2, v>=1", 0.0, 2.0, 30.0),
        ("cf2 x>2, v<1", 2.0, 30.0, 1.0),
        ("cf2 x>2, v>=1", 2.0, 30.0, 30.0),
    ] {
        let (rv, rx): (Vec<f64>, Vec<f64>) = v
            .iter()
            .zip(x)
            .filter(|&(&v, &x)| {
                Region::of(v, x) == Region::Small
                    && x > lo
                    && x <= hi
                    && v < vmax
                    && (vmax > 1.0) == (v >= 1.0)
            })
            .map(|(&v, &x)| (v, x))
            .unzip();
        let mut o = vec![0.0; rv.len()];
        let t = Instant::now();
        log_kv_slice(&rv, &rx, &mut o, 1).unwrap();
        let tk = t.elapsed().as_secs_f64();
        let t = Instant::now();
        log_iv_slice(&rv, &rx, &mut o, 1).unwrap();
        let ti = t.elapsed().as_secs_f64();
        println!(
            "  {name:18}: {:6} points, log K {:.0} ns, log I {:.0} ns",
            rv.len(),
            tk / rv.len().max(1) as f64 * 1e9,
            ti / rv.len().max(1) as f64 * 1e9
        );
    }
}

/// Time per point of the uniform region by `r = √(v²+x²)` band (the number of Debye terms).
fn uniform_breakdown(v: &[f64], x: &[f64]) {
    for (lo, hi) in [
        (30.0, 55.0),
        (55.0, 300.0),
        (300.0, 2e3),
        (2e3, 1.1e4),
        (1.1e4, 1e9),
    ] {
        let (rv, rx): (Vec<f64>, Vec<f64>) = v
            .iter()
            .zip(x)
            .filter(|&(&v, &x)| {
                let r = (v * v + x * x).sqrt();
                r >= lo && r < hi
            })
            .map(|(&v, &x)| (v, x))
            .unzip();
        let mut o = vec![0.0; rv.len()];
        let t = Instant::now();
        log_iv_slice(&rv, &rx, &mut o, 1).unwrap();
        let ti = t.elapsed().as_secs_f64();
        println!(
            "  r in [{lo:e}, {hi:e}): {:6} points, log I {:.0} ns",
            rv.len(),
            ti / rv.len().max(1) as f64 * 1e9
        );
    }
}
