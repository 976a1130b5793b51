// Pitfall probes (src/probes.rs): one tiny kernel per behaviour known to differ between GPUs,
// chosen by its define. Every operand comes from `inp` at run time, so no compiler can fold
// the answer; results go to `out` as raw bits for the host to read.
//#if NATIVE_F16
enable f16;
//#endif

@group(0) @binding(0) var<storage, read> inp: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<atomic<u32>>;

fn put(i: u32, v: u32) {
    atomicStore(&out[i], v);
}

fn f(i: u32) -> f32 {
    return bitcast<f32>(inp[i]);
}

//#if F16_OVERFLOW
// inp = [count, value bits]: `count` adds of `value` into an f16 accumulator whose exact sum
// is past f16's largest finite value (65504).
@compute @workgroup_size(1)
fn main() {
//#if NATIVE_F16
    var acc = 0.0h;
    let v = f16(f(1u));
    for (var i = 0u; i < inp[0]; i++) {
        acc += v;
    }
    put(0u, bitcast<u32>(f32(acc)));
//#else
    // Without shader-f16: the accumulator rounded to f16 after every add, as a packed-f16
    // kernel stores it.
    var acc = 0.0;
    for (var i = 0u; i < inp[0]; i++) {
        acc = unpack2x16float(pack2x16float(vec2(acc + f(1u), 0.0))).x;
    }
    put(0u, bitcast<u32>(acc));
//#endif
}
//#endif

//#if TANH_LARGE
// inp = [count, x bits...]: tanh of each.
@compute @workgroup_size(1)
fn main() {
    for (var i = 0u; i < inp[0]; i++) {
        put(i, bitcast<u32>(tanh(f(i + 1u))));
    }
}
//#endif

//#if F32_SUBNORMAL
// inp = [bits of 2^-149, 2.0, bits of 2^-126, 0.5, 0.0]: a subnormal doubled, a normal halved
// into the subnormals, a subnormal passed through an add.
@compute @workgroup_size(1)
fn main() {
    put(0u, bitcast<u32>(f(0u) * f(1u)));
    put(1u, bitcast<u32>(f(2u) * f(3u)));
    put(2u, bitcast<u32>(f(0u) + f(4u)));
}
//#endif

//#if F16_SUBNORMAL
// inp = [f32 bits of 2^-24, of 2^-14, f16 bits 0x0001]: f16 subnormals made by a multiply and
// by a conversion, read back as f32.
@compute @workgroup_size(1)
fn main() {
//#if NATIVE_F16
    let tiny = f16(f(0u));
    put(0u, bitcast<u32>(f32(tiny * 2.0h)));
    put(1u, bitcast<u32>(f32(f16(f(1u)) * 0.5h)));
    put(2u, bitcast<u32>(f32(tiny)));
//#else
    // Without shader-f16: f16 subnormals through pack2x16float and unpack2x16float.
    put(0u, bitcast<u32>(unpack2x16float(pack2x16float(vec2(f(0u) * 2.0, 0.0))).x));
    put(1u, bitcast<u32>(unpack2x16float(pack2x16float(vec2(f(1u) * 0.5, 0.0))).x));
    put(2u, bitcast<u32>(unpack2x16float(inp[2]).x));
//#endif
}
//#endif

//#if FMA
// inp = [a, c]: fma(a, a, c) with a = 1 + 2^-20, c = -(1 + 2^-19): 2^-40 fused, 0 if the
// product is rounded first; then the same as a written multiply and add.
@compute @workgroup_size(1)
fn main() {
    put(0u, bitcast<u32>(fma(f(0u), f(0u), f(1u))));
    put(1u, bitcast<u32>(f(0u) * f(0u) + f(1u)));
}
//#endif

//#if SIGNED_INT
// inp = [-7, 3, 2, -8, 1, 33, i32::MIN, -1, 5, 0] as bits.
@compute @workgroup_size(1)
fn main() {
    let v = array<i32, 10>(
        bitcast<i32>(inp[0]), bitcast<i32>(inp[1]), bitcast<i32>(inp[2]), bitcast<i32>(inp[3]),
        bitcast<i32>(inp[4]), bitcast<i32>(inp[5]), bitcast<i32>(inp[6]), bitcast<i32>(inp[7]),
        bitcast<i32>(inp[8]), bitcast<i32>(inp[9]),
    );
    put(0u, bitcast<u32>(v[0] % v[1]));
    put(1u, bitcast<u32>(v[0] / v[2]));
    put(2u, bitcast<u32>(v[3] >> u32(v[4])));
    put(3u, bitcast<u32>(v[3] >> u32(v[5])));
    put(4u, bitcast<u32>(v[6] / v[7]));
    put(5u, bitcast<u32>(v[6] % v[7]));
    put(6u, bitcast<u32>(v[8] / v[9]));
    put(7u, bitcast<u32>(v[8] % v[9]));
}
//#endif

//#if DOT4
// inp = [0x80808080, 0x7F7F7F7F, 0xFFFFFFFF]: the packed dot products at their extremes.
@compute @workgroup_size(1)
fn main() {
    put(0u, bitcast<u32>(dot4I8Packed(inp[0], inp[0])));
    put(1u, bitcast<u32>(dot4I8Packed(inp[1], inp[0])));
    put(2u, bitcast<u32>(dot4I8Packed(inp[1], inp[1])));
    put(3u, dot4U8Packed(inp[2], inp[2]));
    put(4u, bitcast<u32>(dot4I8Packed(inp[2], inp[0])));
}
//#endif

//#if SUBGROUP_SIZE
// out (seeded [0xFFFFFFFF, 0, 0, 0]) = [smallest size seen, largest size seen, invocations
// whose subgroupAdd(1) differs from subgroup_size, inp[0] = 0].
@compute @workgroup_size(256)
fn main(@builtin(subgroup_size) size: u32, @builtin(local_invocation_index) lid: u32) {
    if (lid == 0u) {
        atomicAdd(&out[3], inp[0]);
    }
    atomicMin(&out[0], size);
    atomicMax(&out[1], size);
    if (subgroupAdd(1u) != size) {
        atomicAdd(&out[2], 1u);
    }
}
//#endif

//#if WORKGROUP_DIRTY
// Leaves inp[0] in workgroup memory of the same size as the probe's, so that a driver that
// does not zero it hands the next dispatch these words.
var<workgroup> scratch: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
    scratch[lid] = inp[0] ^ lid;
    workgroupBarrier();
    if (scratch[255u - lid] == 0xFFFFFFFFu) {
        put(0u, 1u);
    }
}
//#endif

//#if WORKGROUP_ZERO
// out[0] = how many of 256 workgroup words were not zero when first read.
var<workgroup> scratch: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
    let v = scratch[lid];
    if (v != 0u || inp[0] == 1u) {
        atomicAdd(&out[0], 1u);
    }
}
//#endif

//#if OOB_READ
// inp = [1000, 20, 30, 40] bound at exactly 16 bytes: reads at index 1000 and 4, and the
// array length the shader sees.
@compute @workgroup_size(1)
fn main() {
    put(0u, inp[inp[0]]);
    put(1u, inp[inp[0] - 996u]);
    put(2u, arrayLength(&inp));
}
//#endif
