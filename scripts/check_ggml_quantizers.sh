#!/usr/bin/env bash
# Compares lowbit's Q4_K, Q6_K and IQ4_NL quantisers with ggml's C reference quantisers
# (quantize_row_{q4_K,q6_K,iq4_nl}_ref) byte for byte, on weights like a model's.
#   bash scripts/check_ggml_quantizers.sh /path/to/ggml   (a checkout of ggml-org/ggml)
# The ggml functions are extracted from that checkout at run time and built with
# -ffp-contract=off (ggml's reference semantics without FMA contraction); nothing of ggml is
# kept in this repository.
set -euo pipefail
ggml="${1:?path to a ggml checkout}"
src="$ggml/src/ggml-quants.c"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT && echo "work: $work"
cd "$(dirname "$0")/.."

extract() { # the function whose definition starts with $1, through its closing brace
  awk -v start="$1" 'index($0, start) == 1 {on = 1} on {print} on && /^}/ {exit}' "$src"
}
{
  cat <<'C'
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define GGML_COMMON_DECL_C
#define GGML_COMMON_IMPL_C
#include "ggml-common.h"
#define GGML_RESTRICT restrict
typedef uint16_t ggml_fp16_t;
#define GGML_ASSERT(x) assert(x)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define GROUP_MAX_EPS 1e-15f
static inline ggml_half GGML_FP32_TO_FP16(float f) { _Float16 h = (_Float16)f; ggml_half u; memcpy(&u, &h, 2); return u; }
static inline float GGML_FP16_TO_FP32(ggml_half u) { _Float16 h; memcpy(&h, &u, 2); return (float)h; }
C
  extract 'static inline int best_index_int8('
  extract 'static inline int nearest_int('
  extract 'static float make_qx_quants('
  extract 'static float make_qkx2_quants('
  extract 'static inline void get_scale_min_k4('
  extract 'void quantize_row_q4_K_ref('
  extract 'void quantize_row_q6_K_ref('
  extract 'static void quantize_row_iq4_nl_impl('
  extract 'void quantize_row_iq4_nl_ref('
  cat <<'C'
int main(int argc, char **argv) {
  const char *type = argv[1]; long k = atol(argv[2]);
  FILE *f = fopen(argv[3], "rb"); fseek(f, 0, SEEK_END); long n = ftell(f) / 4; rewind(f);
  float *x = malloc(n * 4); if (fread(x, 4, n, f) != (size_t)n) return 1; fclose(f);
  size_t bytes; void *out;
  if (!strcmp(type, "Q4_K")) { bytes = n / 256 * sizeof(block_q4_K); out = calloc(1, bytes); for (long r = 0; r < n / k; r++) quantize_row_q4_K_ref(x + r * k, (block_q4_K *)out + r * (k / 256), k); }
  else if (!strcmp(type, "Q6_K")) { bytes = n / 256 * sizeof(block_q6_K); out = calloc(1, bytes); for (long r = 0; r < n / k; r++) quantize_row_q6_K_ref(x + r * k, (block_q6_K *)out + r * (k / 256), k); }
  else { bytes = n / 32 * sizeof(block_iq4_nl); out = calloc(1, bytes); for (long r = 0; r < n / k; r++) quantize_row_iq4_nl_ref(x + r * k, (block_iq4_nl *)out + r * (k / 32), k); }
  FILE *o = fopen(argv[4], "wb"); fwrite(out, 1, bytes, o); fclose(o); return 0;
}
C
} > "$work/ref.c"
gcc -O2 -ffp-contract=off -std=gnu11 -I"$ggml/src" -I"$ggml/include" "$work/ref.c" -lm -o "$work/ref"
cargo build --release --quiet -p lowbit-kernels --example quantize_rows
python3 - "$work/w.f32" <<'PY'
import struct, random, sys
random.seed(11)
rows, k = 16, 1024
vals = []
for r in range(rows):
    gain = random.uniform(0.2, 3.0)
    for i in range(k):
        v = random.gauss(0, 0.02) * gain
        if random.random() < 0.005: v *= random.uniform(8, 30)
        if random.random() < 0.02: v = 0.0
        if r == rows - 1: v = 0.0
        vals.append(v)
open(sys.argv[1], "wb").write(struct.pack("<%df" % len(vals), *vals))
PY
status=0
# FIXTURE=DIR also keeps the input and ggml's bytes there (tests/data/ggml_quant holds a copy).
if [ -n "${FIXTURE:-}" ]; then mkdir -p "$FIXTURE"; cp "$work/w.f32" "$FIXTURE/w.f32"; fi
for t in Q4_K Q6_K IQ4_NL; do
  "$work/ref" "$t" 1024 "$work/w.f32" "$work/ggml.$t"
  target/release/examples/quantize_rows "$t" 1024 "$work/w.f32" "$work/lowbit.$t"
  if [ -n "${FIXTURE:-}" ]; then cp "$work/ggml.$t" "$FIXTURE/$t.bin"; fi
  # An IQ4_NL block whose scale is 0 (an all-zero block) gets whatever levels ggml's local
  # array held (uninitialised at the start of a row); it decodes to zeros either way, so its
  # level bytes are not compared.
  python3 - "$t" "$work/ggml.$t" "$work/lowbit.$t" <<'PY' || status=1
import sys
t, a, b = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
diff = [i for i in range(len(a)) if a[i] != b[i]]
if t == "IQ4_NL":
    diff = [i for i in diff if not (i % 18 >= 2 and a[i - i % 18:][:2] == b"\0\0" == b[i - i % 18:][:2])]
if len(a) != len(b) or diff:
    print(f"{t}: DIFFERENT: {len(diff)} bytes differ, first at {diff[:1]}")
    sys.exit(1)
print(f"{t}: identical ({len(a)} bytes)")
PY
done
exit $status
