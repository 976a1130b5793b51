//! von Mises–Fisher quantities: against mpmath values, and κ recovered from samples drawn with
//! Wood's algorithm in 2048, 8192 and 32768 dimensions.

use lowbit_kernels::bessel::{log_iv, vmf};
use rayon::prelude::*;

/// (p, κ, A_p(κ), log C_p(κ)) from mpmath at 40 digits (`besseli(..., maxterms=10**6)`).
const MPMATH: [(f64, f64, f64, f64); 13] = [
    (2.0, 0.5, 0.24249961258080194, -1.8994267855948268),
    (3.0, 0.001, 0.0003333333111111132, -2.531024413635952),
    (3.0, 50.0, 0.98, -47.9258540609812),
    (10.0, 3.0, 0.2800277143852539, -3.673173520704162),
    (2048.0, 500.0, 0.23111185300426826, 4839.035984402808),
    (2048.0, 2000.0, 0.6115258874774573, 4154.844380785791),
    (8192.0, 4000.0, 0.4072948588492738, 24394.59914214199),
    (32768.0, 10000.0, 0.28106833147572496, 122385.07526670798),
    (32768.0, 40000.0, 0.6710398925286422, 106809.47577300806),
    (100000.0, 100000.0, 0.6180355166177169, 396004.3493576251),
    (100000.0, 10.0, 9.999999900002003e-05, 433747.23533192126),
    (2048.0, 1000000.0, 0.9989770232647613, -987740.3688568026),
    (2.0, 10000.0, 0.999949998749875, -9996.313780847842),
];

#[test]
fn mean_resultant_length_and_normalizer_match_mpmath() {
    for &(p, kappa, a, log_c) in &MPMATH {
        let got_a = vmf::mean_resultant_length(p, kappa);
        assert!(
            (got_a - a).abs() <= 4e-15 * a,
            "A_{p}({kappa}) = {got_a:e}, want {a:e}"
        );
        let got_c = vmf::log_normalizer(p, kappa);
        assert!(
            (got_c - log_c).abs() <= 1e-14 * log_c.abs().max(1.0),
            "log C_{p}({kappa}) = {got_c:e}, want {log_c:e}"
        );
    }
}

#[test]
fn normalizer_at_zero_is_the_sphere_area_and_continuous() {
    // |S^2| = 4π.
    let c3 = vmf::log_normalizer(3.0, 0.0);
    assert!((c3 + (4.0 * std::f64::consts::PI).ln()).abs() < 1e-15);
    for p in [2.0, 3.0, 64.0, 2048.0] {
        let at0 = vmf::log_normalizer(p, 0.0);
        let near = vmf::log_normalizer(p, 1e-9);
        assert!((at0 - near).abs() < 1e-12 * at0.abs().max(1.0), "p={p}");
    }
    assert!(vmf::log_normalizer(1.0, 1.0).is_nan());
    assert!(vmf::log_normalizer(3.0, -1.0).is_nan());
}

#[test]
fn kappa_mle_inverts_the_mean_resultant_length() {
    for p in [2.0, 3.0, 10.0, 2048.0, 8192.0, 32768.0, 1e5] {
        for kappa in [1e-3, 0.5, 10.0, 300.0, 5000.0, 4e4, 1e6] {
            let rbar = vmf::mean_resultant_length(p, kappa);
            let got = vmf::kappa_mle(p, rbar);
            // The root is only as sharp as A is flat: dκ/κ = dA/(κ A'(κ)).
            let a = rbar;
            let slope = 1.0 - a * a - (p - 1.0) / kappa * a;
            let cond = a / (kappa * slope);
            let tol = 1e-13 * cond.max(1.0);
            assert!(
                ((got - kappa) / kappa).abs() <= tol,
                "p={p} κ={kappa}: got {got:e} (tol {tol:e})"
            );
        }
    }
    assert_eq!(vmf::kappa_mle(3.0, 0.0), 0.0);
    assert!(vmf::kappa_mle(3.0, 1.0).is_nan());
    assert!(vmf::kappa_mle(3.0, -0.1).is_nan());
}

/// SplitMix64: a small, reproducible generator for the sampler.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Gamma(α, 1), α ≥ 1 (Marsaglia & Tsang).
    fn gamma(&mut self, alpha: f64) -> f64 {
        let d = alpha - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let z = self.normal();
            let v = (1.0 + c * z).powi(3);
            if v > 0.0 && self.uniform().ln() < 0.5 * z * z + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    fn beta(&mut self, a: f64) -> f64 {
        let g1 = self.gamma(a);
        let g2 = self.gamma(a);
        g1 / (g1 + g2)
    }
}

/// Wood (1994): the component `w = μᵀX` of a vMF sample with mean direction μ.
fn wood_w(rng: &mut Rng, p: f64, kappa: f64) -> f64 {
    let pm1 = p - 1.0;
    let b = pm1 / (2.0 * kappa + (4.0 * kappa * kappa + pm1 * pm1).sqrt());
    let x0 = (1.0 - b) / (1.0 + b);
    let c = kappa * x0 + pm1 * (1.0 - x0 * x0).ln();
    loop {
        let z = rng.beta(0.5 * pm1);
        let w = (1.0 - (1.0 + b) * z) / (1.0 - (1.0 - b) * z);
        if kappa * w + pm1 * (1.0 - x0 * w).ln() - c >= rng.uniform().ln() {
            return w;
        }
    }
}

/// Draws `n` vMF samples in `p` dimensions (mean e₁) and returns their mean resultant length
/// `‖Σ xᵢ‖ / n`; each sample is `(w, √(1−w²)·u)` with `u` uniform on `S^{p−2}`.
fn sample_rbar(p: usize, kappa: f64, n: usize, seed: u64) -> f64 {
    let threads = 8;
    let partial: Vec<(f64, Vec<f64>)> = (0..threads)
        .into_par_iter()
        .map(|t| {
            let mut rng = Rng(seed ^ (t as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            let mut sum_w = 0.0;
            let mut tangent = vec![0.0; p - 1];
            let mut g = vec![0.0; p - 1];
            for _ in (t..n).step_by(threads) {
                let w = wood_w(&mut rng, p as f64, kappa);
                sum_w += w;
                let mut norm2 = 0.0;
                for gi in g.iter_mut() {
                    *gi = rng.normal();
                    norm2 += *gi * *gi;
                }
                let scale = (1.0 - w * w).max(0.0).sqrt() / norm2.sqrt();
                for (s, gi) in tangent.iter_mut().zip(&g) {
                    *s += scale * gi;
                }
            }
            (sum_w, tangent)
        })
        .collect();
    let sum_w: f64 = partial.iter().map(|(w, _)| w).sum();
    let mut tangent2 = 0.0;
    for i in 0..p - 1 {
        let s: f64 = partial.iter().map(|(_, t)| t[i]).sum();
        tangent2 += s * s;
    }
    (sum_w * sum_w + tangent2).sqrt() / n as f64
}

#[test]
fn kappa_is_recovered_from_samples_in_high_dimensions() {
    // κ chosen so that A_p sits mid-range and e^{-κ} I_ν(κ) is far below f64's range: the
    // ive-based ratio is 0/0 there.
    for (p, kappa) in [(2048usize, 500.0), (8192, 2000.0), (32768, 10000.0)] {
        let nu = p as f64 / 2.0 - 1.0;
        let ive_ratio = (log_iv(nu + 1.0, kappa) - kappa).exp() / (log_iv(nu, kappa) - kappa).exp();
        assert!(ive_ratio.is_nan(), "p={p}: the ive route should fail here");

        let rbar = sample_rbar(p, kappa, 10_000, 0x5EED ^ p as u64);
        let mle = vmf::kappa_mle(p as f64, rbar);
        let sra = vmf::kappa_sra(p as f64, rbar);
        let banerjee = vmf::kappa_banerjee(p as f64, rbar);
        println!("p={p} κ={kappa}: R̄={rbar:.6} mle={mle:.2} sra={sra:.2} banerjee={banerjee:.2}");
        assert!(
            ((mle - kappa) / kappa).abs() < 0.01,
            "p={p}: κ̂ = {mle}, want {kappa} ± 1%"
        );
        // Sra's two Newton steps land on the same root; Banerjee's closed form is near it.
        assert!(((sra - mle) / mle).abs() < 1e-6, "sra {sra} vs mle {mle}");
        assert!(((banerjee - mle) / mle).abs() < 0.05, "banerjee {banerjee}");
    }
}
