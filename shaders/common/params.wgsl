// Parameters every matmul kernel takes, in this order (src/ops/plan.rs fills them).
struct Params {
    m: u32,
    n: u32,        // W rows in this dispatch (a chunk when W is split over several bindings)
    k: u32,        // row length of x and W
    w_off: u32,    // element offset of this chunk's first row inside the W binding
    groups_x: u32,
    n_base: u32,   // first output column of this chunk
    ldy: u32,      // row stride of y (the full N)
    flags: u32,    // bit 0: add to y (a later K slice); bit 1: last K slice (W8A8 scales);
                   // bit 2: add bias[n] (on the last K slice)
    k_begin: u32,  // the K slice this dispatch covers (llvmpipe bounds loop trips per dispatch)
    k_end: u32,
    _p0: u32,
    _p1: u32,
}
