#!/usr/bin/env python3
"""Makes tests/data/quant_roundtrip.gguf: what llama.cpp's gguf-py (0.19.0) produces, for the
quantisers and decoders lowbit must match byte for byte.

For every type gguf-py can quantise (BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, TQ1_0, TQ2_0, MXFP4):
    <T>.src  F32 [K, N]  weights like a model's (N(0, 0.02) times a row gain, 0.5% outliers,
                         exact zeros, ties at block maxima, one all-zero row)
    <T>.q    T   [K, N]  gguf.quants.quantize(src)   (gguf-py was checked bit-exact against
                         ggml's C quantize_row_*_ref by its authors and by QUANT_VECTORS.md)
For the types gguf-py can only dequantise and the vector file lacks (IQ4_XS, NVFP4):
    <T>.q    T           random blocks (every bit pattern decodes)
    <T>.deq  F32         gguf.quants.dequantize(q)

    pip install gguf==0.19.0 numpy && python3 scripts/gen_quant_roundtrip.py
"""
import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGML_QUANT_SIZES, quants

N, K = 8, 512
QUANTIZE = ["BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "TQ1_0", "TQ2_0", "MXFP4"]
DEQUANT_ONLY = ["IQ4_XS", "NVFP4"]


def weights(rng, ternary):
    if ternary:
        w = rng.choice([-1.0, 0.0, 1.0], size=(N, K), p=[0.3, 0.4, 0.3])
        w = w * rng.uniform(0.01, 0.1, size=(N, 1)) + rng.normal(0, 0.002, size=(N, K))
    else:
        w = rng.normal(0, 0.02, size=(N, K)) * rng.uniform(0.2, 3.0, size=(N, 1))
        mask = rng.random((N, K)) < 0.005
        w[mask] *= rng.uniform(8, 30, size=mask.sum())
    w[rng.random((N, K)) < 0.02] = 0.0
    # Ties: in row 2 every block's first two elements share the largest magnitude.
    for b in range(0, K, 32):
        w[2, b] = 0.25
        w[2, b + 1] = -0.25
    w[N - 1] = 0.0
    return w.astype(np.float32)


def main():
    rng = np.random.default_rng(7)
    writer = gguf.GGUFWriter("tests/data/quant_roundtrip.gguf", arch="roundtrip")
    writer.add_string("roundtrip.gguf_py_version", "0.19.0")
    for t in QUANTIZE:
        src = weights(rng, t.startswith("TQ"))
        q = quants.quantize(src, QT[t])
        writer.add_tensor(f"{t}.src", src)
        writer.add_tensor(f"{t}.q", q, raw_dtype=QT[t])
    for t in DEQUANT_ONLY:
        block, size = GGML_QUANT_SIZES[QT[t]]
        raw = rng.integers(0, 256, size=(N, K // block * size), dtype=np.uint8)
        if t == "IQ4_XS":
            # Keep d (f16 @0) finite and weight-sized.
            d = (rng.normal(0, 0.02 / 127, size=(N, K // block)) ).astype(np.float16)
            raw.reshape(N, K // block, size)[:, :, 0:2] = d.view(np.uint8).reshape(N, K // block, 2)
        deq = quants.dequantize(raw, QT[t]).astype(np.float32)
        writer.add_tensor(f"{t}.q", raw, raw_dtype=QT[t])
        writer.add_tensor(f"{t}.deq", deq)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
