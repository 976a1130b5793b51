//! Benchmark inputs: `(v, x)` drawn like the reference file `tests/data/logbessel_reference.csv`
//! (its generator's default mixture of eight sampling categories, same weights), interleaved so
//! that every chunk of a batch sees every region.

/// SplitMix64: small and reproducible.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.next() * (hi / lo).ln()).exp()
    }
}

const X_MIN: f64 = 1e-8;
const X_MAX: f64 = 1e5;
const V_MAX: f64 = 1e5;

/// One point of the category whose cumulative weight covers `pick ∈ [0, 3000)`.
fn draw(rng: &mut SplitMix, pick: f64) -> (f64, f64) {
    let clip = |x: f64| x.clamp(X_MIN, X_MAX);
    match pick {
        // special (600): common orders, integers, half-integers, and any order.
        p if p < 600.0 => {
            let c = rng.next();
            let v = if c < 0.5 {
                [0.0, 0.5, 1.0, 1.5, 2.0, 10.0][(rng.next() * 6.0) as usize % 6]
            } else if c < 0.7 {
                rng.log_uniform(1.0, V_MAX).round()
            } else if c < 0.8 {
                rng.log_uniform(2.0, 1e3).round() + 0.5
            } else {
                rng.log_uniform(0.1, V_MAX)
            };
            (v, rng.log_uniform(X_MIN, X_MAX))
        }
        // loguni (900).
        p if p < 1500.0 => (rng.log_uniform(1e-3, V_MAX), rng.log_uniform(X_MIN, X_MAX)),
        // transition (450): x = v(1 ± d).
        p if p < 1950.0 => {
            let v = rng.log_uniform(0.5, V_MAX);
            if rng.next() < 0.05 {
                (v, clip(v))
            } else {
                let d = rng.log_uniform(1e-6, 0.5);
                let s = if rng.next() < 0.5 { 1.0 } else { -1.0 };
                (v, clip(v * (1.0 + s * d)))
            }
        }
        // tinyx (300): x ≪ v.
        p if p < 2250.0 => {
            let v = rng.log_uniform(10.0, V_MAX);
            (v, rng.log_uniform(X_MIN, 1e-3 * v))
        }
        // largex (300): x ≫ v.
        p if p < 2550.0 => {
            let v = if rng.next() < 0.1 {
                0.0
            } else {
                rng.log_uniform(1e-3, 1e3)
            };
            (v, rng.log_uniform((100.0 * v).max(1.0), X_MAX))
        }
        // v0small (150).
        p if p < 2700.0 => (0.0, rng.log_uniform(X_MIN, 1.0)),
        // nearint (150): v = n ± ε.
        p if p < 2850.0 => {
            let eps = rng.log_uniform(1e-10, 1e-2);
            let v = if rng.next() < 0.15 {
                eps
            } else {
                let n = rng.log_uniform(1.0, 1e4).round();
                if rng.next() < 0.5 {
                    n + eps
                } else {
                    n - eps
                }
            };
            (v, rng.log_uniform(X_MIN, X_MAX))
        }
        // vsq (150): x ~ v².
        _ => {
            let v = rng.log_uniform(1.0, 316.0);
            (v, clip(v * v * 10f64.powf(2.0 * rng.next() - 1.0)))
        }
    }
}

/// `n` points `(v, x)` mixed like the reference file, reproducible from `seed`.
pub fn mixture(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = SplitMix(seed);
    (0..n)
        .map(|_| {
            let pick = rng.next() * 3000.0;
            draw(&mut rng, pick)
        })
        .unzip()
}
