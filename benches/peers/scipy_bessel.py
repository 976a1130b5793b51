#!/usr/bin/env python3
"""Times SciPy's log I_v(x) = log(ive(v, x)) + x and log K_v(x) = log(kve(v, x)) - x on one
thread, on the points of a CSV with columns v and x (as written by
`lowbit bench --op bessel --dump-points FILE`), for a side-by-side ratio with lowbit's CPU path.

    pip install numpy scipy
    cargo run --release --bin lowbit -- bench --op bessel --n 1000000 --dump-points /tmp/p.csv
    OMP_NUM_THREADS=1 python3 benches/peers/scipy_bessel.py /tmp/p.csv

Prints evaluations/s (median of 5 runs) and how many results were not finite.
"""
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
from scipy import special  # noqa: E402


def main():
    path = sys.argv[1]
    data = np.genfromtxt(path, delimiter=",", names=True)
    v = np.ascontiguousarray(data["v"], dtype=np.float64)
    x = np.ascontiguousarray(data["x"], dtype=np.float64)
    n = len(v)
    with np.errstate(all="ignore"):
        for name, fn in (
            ("log I = log(ive)+x", lambda: np.log(special.ive(v, x)) + x),
            ("log K = log(kve)-x", lambda: np.log(special.kve(v, x)) - x),
        ):
            times = []
            for _ in range(5):
                t = time.perf_counter()
                out = fn()
                times.append(time.perf_counter() - t)
            times.sort()
            bad = int(np.count_nonzero(~np.isfinite(out)))
            print(f"scipy {special.__name__.split('.')[0]} {name}: {n / times[2]:.3e} evaluations/s "
                  f"(1 thread, median of 5), {bad} of {n} not finite")


if __name__ == "__main__":
    main()
