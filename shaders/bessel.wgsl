// log I_v(x) and log K_v(x), one point per invocation, in F = f32 or f64 (the composer
// prepends `alias F`, the precision's constants and the generated polynomial functions:
// debye_sums, rgamma1p, rgamma1pm1, temme_gammas, eta_taylor, atanh_series, exp_series,
// sin_series). Same regions as lowbit-kernels' f64 code (r = sqrt(v^2 + x^2)):
//   r >= R_MIN : uniform (Debye) expansion, `vη` from η's Taylor series near its zero;
//   r <  R_MIN : I by the power series, K by Temme (x <= 2) or Steed's CF2 and the recurrence.
// WGSL's log/exp/sin are not accurate enough (log: 2^-21 absolute near 1; exp: 3 + 2|x| ulp;
// sin: 2^-11 absolute) and do not exist for f64, so everything below is built from
// frexp/ldexp, + - * / and sqrt. The host answers x = 0 and invalid inputs itself; here
// v >= 0 and 0 < x < inf.
//
// Inputs: f32 mode reads vec4(v_hi, v_lo, x_hi, x_lo), the f64 inputs split in two f32, and
// adds the first-order effect of the low parts (so a log near 0 is not spoilt by rounding a
// large v or x to f32); f64 mode reads vec2(v, x).

struct Params {
    n: u32,
    // Invocations per row of the 2-D grid (grids are folded past 65535 workgroups).
    row: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> points: array<POINT>;
@group(0) @binding(2) var<storage, read_write> result: array<vec2<F>>;

const SQRT_HALF: F = 0.70710678118654752440;
const SQRT_TWO: F = 1.41421356237309504880;
const INV_LN2: F = 1.44269504088896340736;
const PI: F = 3.14159265358979323846;
// ½ ln(2π), ½ ln(π/2).
const HALF_LN_2PI: F = 0.91893853320467274178;
const HALF_LN_PI_2: F = 0.22579135264472743236;

// ln x for 0 < x < inf: x = m 2^e with m in [1/√2, √2), ln m = 2 atanh((m−1)/(m+1)).
fn ln(x: F) -> F {
//#if F64
    // frexp of an f64 needs 64-bit integers; the exponent of f32(y) is the same up to the
    // rounding of f32(y), which the normalisation below absorbs.
    var y = x;
    var e: F = 0.0;
    for (var i = 0; i < 12 && y > 1e30; i++) {
        y = ldexp(y, -100);
        e += 100.0;
    }
    for (var i = 0; i < 12 && y < 1e-30; i++) {
        y = ldexp(y, 100);
        e -= 100.0;
    }
    let fe = frexp(f32(y)).exp;
    var m = ldexp(y, -fe);
    e += F(fe);
//#else
    let fr = frexp(x);
    var m = fr.fract;
    var e = F(fr.exp);
//#endif
    if m < SQRT_HALF {
        m *= 2.0;
        e -= 1.0;
    }
    if m >= SQRT_TWO {
        m *= 0.5;
        e += 1.0;
    }
    let s = (m - 1.0) / (m + 1.0);
    return e * LN2_HI + (e * LN2_LO + atanh_series(s));
}

// ln(1 + u) for u > −1, without the loss of forming 1 + u when |u| is small.
fn ln1p(u: F) -> F {
    if abs(u) < 0.4 {
        return atanh_series(u / (2.0 + u));
    }
    return ln(1.0 + u);
}

// e^x for |x| < ~700 (f64) / ~85 (f32): Cody–Waite reduction by ln 2, then a Taylor series.
fn exp_(x: F) -> F {
    let k = round(x * INV_LN2);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    return ldexp(exp_series(r), i32(k));
}

// √(v² + x²) without overflow.
fn radius(v: F, x: F) -> F {
    let m = max(v, x);
    if m > HYPOT_SCALE {
        let a = v / m;
        let b = x / m;
        return m * sqrt(a * a + b * b);
    }
    return sqrt(v * v + x * x);
}

// asinh(v/x) for x > 0, without overflow at tiny x or cancellation at v ≪ x.
fn asinh_ratio(v: F, x: F, r: F) -> F {
    if v <= x {
        return ln1p(v / x * (1.0 + v / (x + r)));
    }
    if v + r < x * RATIO_MAX {
        return ln((v + r) / x);
    }
    return ln(v + r) - ln(x);
}

// The high part of y with at most SPLIT_BITS significant bits (Veltkamp), so that products
// with the SPLIT_BITS-bit pieces of z0 are exact.
fn split_hi(y: F) -> F {
    let c = SPLIT_FACTOR * y;
    return c - (c - y);
}

// vη = r − v·asinh(v/x). Near η's zero z0 ≈ 0.6627 both terms are ≈ v and their difference
// would keep only an absolute accuracy of a few ulp of v, so there vη = v·η(z) from η's
// Taylor series in dz = (x − z0 v)/v, with z0 v formed exactly from a three-piece z0.
fn v_eta(v: F, x: F, r: F) -> F {
    if v == 0.0 {
        return r;
    }
    if abs(x / v - Z0_A) < ETA_WINDOW {
        let vh = split_hi(v);
        let vl = v - vh;
        let d = ((((x - Z0_A * vh) - Z0_A * vl) - Z0_B * vh) - Z0_B * vl) - Z0_C * v;
        return v * eta_taylor(d / v);
    }
    return r - v * asinh_ratio(v, x, r);
}

// (log I, log K) by the uniform expansion.
fn uniform_ik(v: F, x: F, r: F) -> vec2<F> {
    let t = 1.0 / r;
    let p = v * t;
    let sums = debye_sums(t, p * p, debye_terms(r));
    let veta = v_eta(v, x, r);
    let half_ln_r = 0.5 * ln(r);
    return vec2<F>(
        veta - HALF_LN_2PI - half_ln_r + ln1p(sums.x),
        -veta + HALF_LN_PI_2 - half_ln_r + ln1p(sums.y),
    );
}

// ln of a product of positive factors, with one log per ~1e±(RANGE) of magnitude.
struct LogProduct {
    logs: F,
    prod: F,
}

fn lp_push(acc: ptr<function, LogProduct>, f: F) {
    if f < RANGE_LO || f > RANGE_HI {
        (*acc).logs += ln(f);
        return;
    }
    (*acc).prod *= f;
    if (*acc).prod < RANGE_LO || (*acc).prod > RANGE_HI {
        (*acc).logs += ln((*acc).prod);
        (*acc).prod = 1.0;
    }
}

// ln Γ(1+u) for 0 <= u < 1.
fn lgamma1p(u: F) -> F {
    if u < 0.5 {
        return -ln1p(rgamma1pm1(u));
    }
    // Γ(2+w) = (1+w) Γ(1+w), w = u − 1 in [−½, 0).
    let w = u - 1.0;
    return ln((1.0 + w) / rgamma1p(w));
}

// log I_v(x) by the power series, r < R_MIN.
fn series_log_i(v: F, x: F) -> F {
    let h = 0.25 * x * x;
    var term: F = 1.0;
    var tail: F = 0.0;
    var m: F = 1.0;
    for (var i = 0; i < 400; i++) {
        term *= h / (m * (m + v));
        tail += term;
        if term <= LOOP_EPS * (1.0 + tail) {
            break;
        }
        m += 1.0;
    }
    // ln((x/2)^v / Γ(v+1)) = u ln(x/2) − ln Γ(1+u) + ln Π_{j≤n} (x/2)/(u+j), v = n + u.
    let n = floor(v);
    let u = v - n;
    let half_x = 0.5 * x;
    var acc = LogProduct(0.0, 1.0);
    for (var j: F = 1.0; j <= n; j += 1.0) {
        lp_push(&acc, half_x / (u + j));
    }
    var frac: F = 0.0;
    if u != 0.0 {
        frac = u * ln(half_x) - lgamma1p(u);
    }
    return frac + (acc.logs + ln(acc.prod)) + ln1p(tail);
}

// (ln K_u, x K_{u+1}/K_u) by Temme's series, |u| <= ½, x <= 2.
fn temme(u: F, x: F) -> vec2<F> {
    let ln_half_x = ln(0.5 * x);
    let sigma = -u * ln_half_x;
    let e = exp_(sigma);
    let cosh_s = 0.5 * (e + 1.0 / e);
    var sinh_ratio: F;
    if abs(sigma) < 0.5 {
        let s2 = sigma * sigma;
        sinh_ratio = 1.0 + s2 / 6.0 * (1.0 + s2 / 20.0 * (1.0 + s2 / 42.0 * (1.0 + s2 / 72.0 * (1.0 + s2 / 110.0 * (1.0 + s2 / 156.0)))));
    } else {
        sinh_ratio = (e - 1.0 / e) / (2.0 * sigma);
    }
    let pu = PI * u;
    var pi_ratio: F = 1.0;
    if pu != 0.0 {
        pi_ratio = pu / sin_series(pu);
    }
    let g = temme_gammas(u);
    var f = (cosh_s * g.x - sinh_ratio * ln_half_x * g.y) * pi_ratio;
    var p = 0.5 * e / rgamma1p(u);
    var q = 0.5 / (e * rgamma1p(-u));
    var c: F = 1.0;
    let h = 0.25 * x * x;
    var sum = f;
    var sum1 = p;
    var k: F = 1.0;
    for (var i = 0; i < 500; i++) {
        f = (k * f + p + q) / (k * k - u * u);
        p /= k - u;
        q /= k + u;
        c *= h / k;
        let term = c * f;
        sum += term;
        sum1 += c * (p - k * f);
        if abs(term) < LOOP_EPS * abs(sum) {
            break;
        }
        k += 1.0;
    }
    return vec2<F>(ln(sum), 2.0 * sum1 / sum);
}

// (ln K_u, x K_{u+1}/K_u) by Steed's CF2, |u| <= ½, x > 2.
fn steed_cf2(u: F, x: F) -> vec2<F> {
    var a = u * u - 0.25;
    var b = 2.0 * (x + 1.0);
    var d = 1.0 / b;
    var f = d;
    var delta = d;
    var q_prev: F = 0.0;
    var q_cur: F = 1.0;
    var c = -a;
    var big_q = c;
    var s = 1.0 + big_q * delta;
    var k: F = 2.0;
    for (var i = 0; i < 1000; i++) {
        a -= 2.0 * (k - 1.0);
        b += 2.0;
        d = 1.0 / (b + a * d);
        delta *= b * d - 1.0;
        f += delta;
        let qn = (q_prev - (b - 2.0) * q_cur) / a;
        q_prev = q_cur;
        q_cur = qn;
        c *= -a / k;
        big_q += c * qn;
        s += big_q * delta;
        if abs(big_q * delta) < LOOP_EPS * abs(s) {
            break;
        }
        k += 1.0;
    }
    return vec2<F>(0.5 * ln(PI / (2.0 * x)) - x - ln(s), 0.5 + u + x + (u * u - 0.25) * f);
}

// log K_v(x), r < R_MIN: K_u, K_{u+1} at u = v − round(v), then ρ_k = x K_{u+k+1}/K_{u+k}
// upward (stable for K), log K_v = ln K_u + Σ ln(ρ_k / x).
fn small_log_k(v: F, x: F) -> F {
    let n = round(v);
    let u = v - n;
    var start: vec2<F>;
    if x <= 2.0 {
        start = temme(u, x);
    } else {
        start = steed_cf2(u, x);
    }
    if n == 0.0 {
        return start.x;
    }
    let x2 = x * x;
    var rho = start.y;
    var acc = LogProduct(0.0, 1.0);
    lp_push(&acc, rho / x);
    for (var k: F = 1.0; k < n; k += 1.0) {
        rho = 2.0 * (u + k) + x2 / rho;
        lp_push(&acc, rho / x);
    }
    return start.x + acc.logs + ln(acc.prod);
}

fn log_ik(v: F, x: F) -> vec2<F> {
    let r = radius(v, x);
    if r >= R_MIN {
        return uniform_ik(v, x, r);
    }
    return vec2<F>(series_log_i(v, x), small_log_k(v, x));
}

//#if !VMF
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * params.row + gid.x;
    if i >= params.n {
        return;
    }
    let pt = points[i];
//#if F64
    result[i] = log_ik(pt.x, pt.y);
//#else
    let v = pt.x;
    let x = pt.z;
    var out = log_ik(v, x);
    // First-order effect of the low parts: ∂ log I/∂x ≈ r/x and ∂ log I/∂v ≈ −asinh(v/x)
    // (the Debye leading terms; K has the opposite signs). The correction is ~1e-7 of v or x
    // times these, so their O(1/r) relative error leaves well under 1e-6 of a log near 0.
    if pt.y != 0.0 || pt.w != 0.0 {
        let r = radius(v, x);
        let d = r / x * pt.w - asinh_ratio(v, x, r) * pt.y;
        out += vec2<f32>(d, -d);
    }
    result[i] = out;
//#endif
}
//#endif
