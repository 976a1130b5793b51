// out[m][i] = x[m][perm[i]] for x [M, K] (f32, or packed f16 with X_F16), out f32 [M, K]: the
// input-feature order of act-order int4 weights (GPTQ desc_act) applied to the activations.

struct Params {
    m: u32,
    k: u32,
    // Invocations per row of the (folded) grid.
    row: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
//#if X_F16
@group(0) @binding(1) var<storage, read> x: array<u32>;
//#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
//#endif
@group(0) @binding(2) var<storage, read> perm: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn x_at(i: u32) -> f32 {
//#if X_F16
    let pair = unpack2x16float(x[i >> 1u]);
    return select(pair.x, pair.y, (i & 1u) == 1u);
//#else
    return x[i];
//#endif
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * params.row + gid.x;
    if i >= params.m * params.k {
        return;
    }
    let r = i / params.k;
    // perm holds indices below k (checked when the weights were converted).
    let src = min(perm[i % params.k], params.k - 1u);
    out[i] = x_at(r * params.k + src);
}
