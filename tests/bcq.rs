//! BCQ query-and-add on every backend: within `bcq::error_bound` of the exact product over
//! awkward shapes, planes 1–4, APoT terms 1–3, scale blocks, bias, several tokens; bad input
//! refused.

mod common;

use common::{all_contexts, Rng};
use lowbit::kernels::bcq::{error_bound, ApotTerm, BcqWeights};
use lowbit::ops::bcq_matmul;
use lowbit::{BcqMatrix, Tensor};

fn random(
    (q, n, k): (usize, usize, usize),
    (bk, bn, terms): (usize, usize, usize),
    rng: &mut Rng,
) -> BcqWeights {
    let signs: Vec<i8> = (0..n * q * k)
        .map(|_| {
            if rng.next_u64().is_multiple_of(2) {
                1
            } else {
                -1
            }
        })
        .collect();
    let len = (k / bk) * q * (n / bn) * terms;
    let scales: Vec<Option<ApotTerm>> = (0..len)
        .map(|_| {
            (!rng.next_u64().is_multiple_of(5)).then(|| ApotTerm {
                negative: rng.next_u64().is_multiple_of(4),
                exp: -((rng.next_u64() % 8) as i8),
            })
        })
        .collect();
    BcqWeights::from_planes((q, n, k), (bk, bn, terms), &signs, &scales).unwrap()
}

#[test]
fn within_the_bound_on_every_backend() {
    let mut rng = Rng::new(53);
    for (q, n, k, bk, bn, terms) in [
        (1, 1, 1, 1, 1, 1),
        (2, 3, 3, 3, 3, 2),
        (3, 17, 17, 17, 17, 3),
        (4, 33, 64, 8, 11, 3),
        (3, 8, 257, 257, 8, 3),
        (2, 70, 200, 40, 7, 2),
    ] {
        let w = random((q, n, k), (bk, bn, terms), &mut rng);
        let d = w.dequantize_f64();
        for m in [1usize, 3] {
            let x: Vec<f32> = (0..m * k).map(|_| rng.unit() * 2.0).collect();
            let bias: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
            let bound = error_bound(&w, &x, m, Some(&bias));
            for ctx in all_contexts() {
                let wm = BcqMatrix::new(&ctx, &w).unwrap();
                let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
                let bt = Tensor::from_slice(&ctx, &bias, &[n]).unwrap();
                let y = bcq_matmul(&ctx, &xt, &wm, Some((&bt).into()))
                    .unwrap()
                    .to_vec::<f32>()
                    .unwrap();
                for t in 0..m {
                    for r in 0..n {
                        let ex: f64 = (0..k)
                            .map(|c| d[r * k + c] * f64::from(x[t * k + c]))
                            .sum::<f64>()
                            + f64::from(bias[r]);
                        let i = t * n + r;
                        assert!(
                            (f64::from(y[i]) - ex).abs() <= f64::from(bound[i]),
                            "{ctx:?} q{q} n{n} k{k} m{m} out {i}: {} vs {ex} (bound {})",
                            y[i],
                            bound[i]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    let mut rng = Rng::new(59);
    let w = random((2, 4, 64), (32, 2, 2), &mut rng);
    for ctx in all_contexts() {
        let wm = BcqMatrix::new(&ctx, &w).unwrap();
        let x = Tensor::from_slice(&ctx, &[0f32; 128], &[2, 64]).unwrap();
        let bad_k = Tensor::from_slice(&ctx, &[0f32; 126], &[2, 63]).unwrap();
        let x8 = Tensor::from_slice(&ctx, &[0i8; 128], &[2, 64]).unwrap();
        let b3 = Tensor::from_slice(&ctx, &[0f32; 3], &[3]).unwrap();
        assert!(bcq_matmul(&ctx, &x, &wm, None).is_ok());
        assert!(bcq_matmul(&ctx, &bad_k, &wm, None).is_err());
        assert!(bcq_matmul(&ctx, &x8, &wm, None).is_err());
        assert!(bcq_matmul(&ctx, &x, &wm, Some((&b3).into())).is_err());
    }
}
