//! BCQ query-and-add matmul: within `bcq::error_bound` of the f64 product of the dequantised
//! weights over awkward shapes, planes 1–4, APoT terms 1–3, scale blocks per row group and per
//! 8·j columns, with a bias; the quantiser's error falls with planes; bad input refused.

mod common;

use common::Lcg;
use lowbit_kernels::bcq::{bcq_matmul, error_bound, ApotTerm, BcqWeights};

fn random(
    (q, n, k): (usize, usize, usize),
    (bk, bn, terms): (usize, usize, usize),
    rng: &mut Lcg,
) -> BcqWeights {
    let signs: Vec<i8> = (0..n * q * k)
        .map(|_| if rng.next().is_multiple_of(2) { 1 } else { -1 })
        .collect();
    let len = (k / bk) * q * (n / bn) * terms;
    let scales: Vec<Option<ApotTerm>> = (0..len)
        .map(|_| {
            (!rng.next().is_multiple_of(5)).then(|| ApotTerm {
                negative: rng.next().is_multiple_of(4),
                exp: -((rng.next() % 8) as i8),
            })
        })
        .collect();
    BcqWeights::from_planes((q, n, k), (bk, bn, terms), &signs, &scales).unwrap()
}

fn exact(w: &BcqWeights, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f64> {
    let (n, k) = (w.n(), w.k());
    let d = w.dequantize_f64();
    let mut y = vec![0f64; m * n];
    for t in 0..m {
        for r in 0..n {
            y[t * n + r] = (0..k)
                .map(|c| d[r * k + c] * f64::from(x[t * k + c]))
                .sum::<f64>()
                + bias.map_or(0.0, |b| f64::from(b[r]));
        }
    }
    y
}

#[test]
fn within_the_bound_on_awkward_shapes() {
    let mut rng = Lcg(17);
    for (n, k, bk, bn) in [
        (1, 1, 1, 1),
        (3, 3, 3, 3),
        (17, 17, 17, 17),
        (33, 64, 8, 11),
        (8, 257, 257, 8),
        (40, 256, 32, 5),
        (257, 100, 100, 257),
    ] {
        for q in 1..=4 {
            for terms in 1..=3 {
                let w = random((q, n, k), (bk, bn, terms), &mut rng);
                let m = 3;
                let x: Vec<f32> = (0..m * k).map(|_| rng.unit() * 2.0).collect();
                let bias: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
                for threads in [1, 2] {
                    let mut y = vec![f32::NAN; m * n];
                    bcq_matmul(threads, &w, &x, m, Some(&bias), &mut y).unwrap();
                    let ex = exact(&w, &x, m, Some(&bias));
                    let bound = error_bound(&w, &x, m, Some(&bias));
                    for i in 0..m * n {
                        assert!(
                            (f64::from(y[i]) - ex[i]).abs() <= f64::from(bound[i]),
                            "n{n} k{k} q{q} t{terms} out {i}: {} vs {} (bound {})",
                            y[i],
                            ex[i],
                            bound[i]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn quantiser_error_falls_with_planes() {
    let mut rng = Lcg(5);
    let (n, k) = (16, 256);
    let w: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
    let mut last = f64::INFINITY;
    for q in 1..=4 {
        let b = BcqWeights::quantize(&w, (q, n, k), (8, 2, 3)).unwrap();
        let d = b.dequantize_f64();
        let e: f64 = w
            .iter()
            .zip(&d)
            .map(|(&a, &b)| (f64::from(a) - b).powi(2))
            .sum::<f64>()
            / (n * k) as f64;
        assert!(e < last * 0.8, "q = {q}: mse {e} after {last}");
        last = e;
    }
}

#[test]
fn bad_input_is_an_error() {
    let s = vec![1i8; 64];
    let one = vec![Some(ApotTerm {
        negative: false,
        exp: 0,
    })];
    assert!(BcqWeights::from_planes((1, 1, 64), (64, 1, 1), &s, &one).is_ok());
    assert!(BcqWeights::from_planes((5, 1, 64), (64, 1, 1), &s, &one).is_err());
    assert!(BcqWeights::from_planes((1, 1, 64), (12, 1, 1), &s, &one).is_err()); // block
    assert!(BcqWeights::from_planes((1, 1, 64), (64, 1, 4), &s, &one).is_err()); // terms
    assert!(BcqWeights::from_planes((1, 1, 64), (64, 1, 1), &s[1..], &one).is_err());
    let mut z = s.clone();
    z[3] = 0;
    assert!(BcqWeights::from_planes((1, 1, 64), (64, 1, 1), &z, &one).is_err());
    let low = vec![Some(ApotTerm {
        negative: false,
        exp: -127,
    })];
    assert!(BcqWeights::from_planes((1, 1, 64), (64, 1, 1), &s, &low).is_err());
    let w = BcqWeights::from_planes((1, 1, 64), (64, 1, 1), &s, &one).unwrap();
    let mut y = vec![0f32; 1];
    assert!(bcq_matmul(1, &w, &[0.0; 63], 1, None, &mut y).is_err());
    assert!(bcq_matmul(1, &w, &[0.0; 64], 1, Some(&[0.0, 0.0]), &mut y).is_err());
}
