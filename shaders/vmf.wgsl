// von Mises–Fisher quantities, composed after bessel.wgsl (whose `main` is left out) with
// `VMF` defined. One (p, a) pair per invocation, read from `points` like the Bessel inputs
// (f32: vec4(p_hi, p_lo, a_hi, a_lo); f64: vec2(p, a)); params.pad0 selects the quantity:
//   0: a = κ  → (log C_p(κ), A_p(κ))
//   1: a = R̄  → (κ̂, A_p(κ̂)), κ̂ the maximum-likelihood κ (A_p(κ̂) = R̄)
// The host answers κ = 0, R̄ = 0 and invalid input. A_p = I_{p/2}/I_{p/2−1} comes from a
// continued fraction (Gauss's for κ ≤ p/2, Perron's above), never from a difference of logs:
// at p = 32768 an f32 log I carries ~1e-3 absolute error, which exp() would turn into the
// error of A. Both fractions converge within ~50 steps for any (ν, κ); the cap is far above.

const CF_CAP: i32 = 2000;
const CF_TINY: F = 1e-30;

// b1 + a2/(b2 + a3/(b3 + …)) by modified Lentz, for the two fractions (perron selects).
fn lentz_ratio_tail(nu: F, x: F, perron: bool) -> F {
    var f: F;
    if perron {
        f = x + 2.0 * nu;
    } else {
        f = 2.0 * nu;
    }
    var c = f;
    var d: F = 0.0;
    var k: F = 2.0;
    let x2 = x * x;
    for (var i = 0; i < CF_CAP; i++) {
        var a: F;
        var b: F;
        if perron {
            a = -(2.0 * nu + 2.0 * k - 3.0) * x;
            b = 2.0 * (nu + x) + k - 1.0;
        } else {
            a = x2;
            b = 2.0 * (nu + k - 1.0);
        }
        d = b + a * d;
        if d == 0.0 {
            d = CF_TINY;
        }
        c = b + a / c;
        if c == 0.0 {
            c = CF_TINY;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if abs(delta - 1.0) <= CF_EPS {
            break;
        }
        k += 1.0;
    }
    return f;
}

// A_p(κ) = I_{p/2}(κ)/I_{p/2−1}(κ), κ > 0.
fn mean_resultant_length(p: F, kappa: F) -> F {
    let nu = 0.5 * p;
    return kappa / lentz_ratio_tail(nu, kappa, kappa > nu);
}

// log C_p(κ) = ν ln κ − (p/2) ln 2π − log I_ν(κ), ν = p/2 − 1, κ > 0.
fn log_normalizer(p: F, kappa: F) -> F {
    let nu = 0.5 * p - 1.0;
    var lead: F = 0.0;
    if nu != 0.0 {
        lead = nu * ln(kappa);
    }
    return lead - p * HALF_LN_2PI - log_ik(nu, kappa).x;
}

// κ from R = κ/(α + √(κ² + β²)), 0 < R < 1 (the Amos-type bounds, solved for κ).
fn invert_amos(r: F, alpha: F, beta: F) -> F {
    let one_m_r2 = (1.0 - r) * (1.0 + r);
    return r * (alpha + sqrt(r * r * alpha * alpha + one_m_r2 * beta * beta)) / one_m_r2;
}

// The root of A_p(κ) = R̄, 0 < R̄ < 1: Newton kept inside the bracket of the Amos bounds.
fn kappa_mle(p: F, rbar: F) -> F {
    let nu = 0.5 * p - 1.0;
    var lo = invert_amos(rbar, nu + 0.5, nu + 0.5);
    var hi = invert_amos(rbar, nu + 0.5, nu + 1.5);
    var kappa = 0.5 * (lo + hi);
    for (var i = 0; i < 60; i++) {
        let a = mean_resultant_length(p, kappa);
        let f = a - rbar;
        if f == 0.0 {
            break;
        }
        if f > 0.0 {
            hi = min(hi, kappa);
        } else {
            lo = max(lo, kappa);
        }
        let slope = 1.0 - a * a - (p - 1.0) / kappa * a;
        var next = kappa - f / slope;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        let done = abs(next - kappa) <= 4.0 * CF_EPS * kappa || hi - lo <= CF_EPS * hi;
        kappa = next;
        if done {
            break;
        }
    }
    return kappa;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * params.row + gid.x;
    if i >= params.n {
        return;
    }
    let pt = points[i];
//#if F64
    let p = pt.x;
    let a = pt.y;
//#else
    // The high parts: p is an integer dimension (exact in f32 up to 2^24), and rounding κ or R̄
    // to f32 moves A_p and κ̂ by about one f32 ulp times a condition number near 1.
    let p = pt.x;
    let a = pt.z;
//#endif
    if params.pad0 == 0u {
        result[i] = vec2<F>(log_normalizer(p, a), mean_resultant_length(p, a));
    } else {
        let kappa = kappa_mle(p, a);
        result[i] = vec2<F>(kappa, mean_resultant_length(p, kappa));
    }
}
