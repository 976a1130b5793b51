// Compute and copy ceilings (src/ceilings.rs), the roof of a roofline on this adapter:
//   F32:  8 independent vec4<f32> fma chains per invocation, from registers only;
//   F16:  the same in vec4<f16> (needs shader-f16);
//   DOT4: 8 independent dot4I8Packed chains, each feeding its own bits back in;
//   COPY: grid-stride vec4 copy (bytes read + bytes written over the time).
// The iteration count comes from a uniform so nothing folds; every result is stored.
//#if F16
enable f16;
//#endif

struct Params { iters: u32, n4: u32, threads: u32, _p: u32 }

@group(0) @binding(0) var<uniform> P: Params;

//#if COPY
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    for (var i = gid.x; i < P.n4; i += P.threads) {
        dst[i] = src[i];
    }
}
//#else
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

//#if DOT4
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let k = 0x01FF7F80u ^ gid.x;
    var a = array<i32, 8>(0, 1, 2, 3, 4, 5, 6, 7);
    for (var i = 0u; i < P.iters; i++) {
        a[0] += dot4I8Packed(bitcast<u32>(a[0]), k);
        a[1] += dot4I8Packed(bitcast<u32>(a[1]), k);
        a[2] += dot4I8Packed(bitcast<u32>(a[2]), k);
        a[3] += dot4I8Packed(bitcast<u32>(a[3]), k);
        a[4] += dot4I8Packed(bitcast<u32>(a[4]), k);
        a[5] += dot4I8Packed(bitcast<u32>(a[5]), k);
        a[6] += dot4I8Packed(bitcast<u32>(a[6]), k);
        a[7] += dot4I8Packed(bitcast<u32>(a[7]), k);
    }
    out[gid.x] = bitcast<u32>(a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7]);
}
//#else
//#if F16
alias T = f16;
//#else
alias T = f32;
//#endif

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    // a·m + c converges to c / (1 − m): no overflow, no subnormals.
    let m = vec4<T>(T(0.999));
    let c = vec4<T>(T(f32(gid.x % 7u) * 1e-4));
    var a0 = vec4<T>(T(1.0));
    var a1 = a0 + c;
    var a2 = a1 + c;
    var a3 = a2 + c;
    var a4 = a3 + c;
    var a5 = a4 + c;
    var a6 = a5 + c;
    var a7 = a6 + c;
    for (var i = 0u; i < P.iters; i++) {
        a0 = fma(a0, m, c);
        a1 = fma(a1, m, c);
        a2 = fma(a2, m, c);
        a3 = fma(a3, m, c);
        a4 = fma(a4, m, c);
        a5 = fma(a5, m, c);
        a6 = fma(a6, m, c);
        a7 = fma(a7, m, c);
    }
    let s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    out[gid.x] = bitcast<u32>(f32(s.x + s.y + s.z + s.w));
}
//#endif
//#endif
