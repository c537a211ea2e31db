"""The orthonormal DCT layers of neurops agree with scipy.fft.dctn/idctn(norm="ortho") (Debian's
python3-scipy): DCT-II and its inverse DCT-III over 1, 2 and 3 trailing axes, in double and single
precision, on a random array with odd and even extents."""
import os
import subprocess
import sys

import h5py
import numpy as np
import scipy.fft

dump, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
x = np.random.default_rng(12).standard_normal((2, 3, 7, 6, 5))
with h5py.File(os.path.join(work, "x.h5"), "w") as f:
    f["x"] = x
subprocess.run([dump, os.path.join(work, "x.h5"), os.path.join(work, "dct.h5")], check=True)
worst = {}
with h5py.File(os.path.join(work, "dct.h5"), "r") as f:
    for axes in (1, 2, 3):
        ax = tuple(range(-axes, 0))
        expected = {"dct": scipy.fft.dctn(x, type=2, axes=ax, norm="ortho"),
                    "idct": scipy.fft.idctn(x, type=2, axes=ax, norm="ortho")}
        for kind, ref in expected.items():
            for suffix, tol in (("", 1e-12), ("_f32", 2e-5)):
                got = f[f"{kind}_{axes}{suffix}"][...]
                assert got.shape == ref.shape, (kind, axes, got.shape)
                err = np.abs(got - ref).max() / np.abs(ref).max()
                worst[f"{kind}_{axes}{suffix}"] = err
                assert err < tol, f"{kind} over {axes} axes{suffix}: relative error {err:.2e} > {tol:.0e}"
print("neurops DCT-II/III agree with scipy.fft (norm='ortho'); worst relative errors:",
      ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
