"""h5py reads what neurops writes: runs the demo, then checks shapes, dtypes and attributes."""
import subprocess
import sys
import os

import h5py
import numpy as np

demo, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
subprocess.run([demo, "-demo_n", "32", "-demo_out", work], check=True, stdout=subprocess.DEVNULL)
with h5py.File(os.path.join(work, "field.h5"), "r") as f:
    u = f["u"][...]
    assert u.shape == (1, 1, 32, 32), u.shape
    assert u.dtype == np.float64, u.dtype
    assert np.isfinite(u).all() and np.abs(u).max() > 0
    assert f.attrs["seed"] == 1
    assert list(f["u"].attrs["grid_shape"]) == [32, 32]
    version = f.attrs["neurops_version"]
    assert isinstance(version, str) and version.count(".") == 2, version
print("h5py read the neurops file: shapes, dtypes and attributes agree")
