//! The kernels' error: wrong lengths or shapes, said in words.

/// What a kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelError {
    /// Lengths or dimensions that do not fit together.
    Shape(String),
}

impl std::fmt::Display for KernelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KernelError::Shape(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for KernelError {}

/// Checks `m, n, k ≥ 1` and the operand lengths.
pub(crate) fn check_dims(
    x_len: usize,
    w_len: usize,
    y_len: usize,
    m: usize,
    n: usize,
    k: usize,
) -> Result<(), KernelError> {
    if m == 0 || n == 0 || k == 0 {
        return Err(KernelError::Shape(format!(
            "M, N and K must be at least 1, got M={m} N={n} K={k}"
        )));
    }
    let want = |a: usize, b: usize| {
        a.checked_mul(b)
            .ok_or_else(|| KernelError::Shape("dimensions overflow".into()))
    };
    for (what, len, expect, formula) in [
        ("x", x_len, want(m, k)?, "M*K"),
        ("w", w_len, want(n, k)?, "N*K"),
        ("y", y_len, want(m, n)?, "M*N"),
    ] {
        if len != expect {
            return Err(KernelError::Shape(format!(
                "{what} has {len} elements, expected {formula} = {expect} (M={m} N={n} K={k})"
            )));
        }
    }
    Ok(())
}

/// The product of `dims` (each at least 1), refused when it, or the bytes of that many 8-byte
/// values, would not fit a Rust allocation: so no length derived from it wraps. `what` names the
/// operand in the message.
pub(crate) fn elems(what: &str, dims: &[usize]) -> Result<usize, KernelError> {
    if dims.contains(&0) {
        return Err(KernelError::Shape(format!(
            "{what}: dimensions {dims:?} must each be at least 1"
        )));
    }
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / 8)
        .ok_or_else(|| KernelError::Shape(format!("{what}: dimensions {dims:?} overflow")))
}
