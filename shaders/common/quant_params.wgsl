// Parameters of the quantized-weight kernels (quant_gemv.wgsl, quant_q8.wgsl), in this order
// (src/ops/quant.rs: quant_params fills them).
struct Params {
    n: u32,
    k: u32,
    m: u32,
    row_bytes: u32,
    m0: u32,
    // Workgroups per row of the (folded) grid.
    groups_x: u32,
    // 1: add bias[n] to every output (the matmul kernels' epilogue).
    has_bias: u32,
    pad1: u32,
}
