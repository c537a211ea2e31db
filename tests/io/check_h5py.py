"""h5py reads what neurops writes: runs the demo (small options), then checks shapes, dtypes and
attributes of its field file and model checkpoint."""
import subprocess
import sys
import os

import h5py
import numpy as np

demo, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
subprocess.run([demo, "-demo_n", "32", "-demo_train", "8", "-demo_test", "2", "-demo_epochs", "1",
                "-demo_width", "4", "-demo_layers", "1", "-demo_out", work], check=True, stdout=subprocess.DEVNULL)
with h5py.File(os.path.join(work, "darcy.h5"), "r") as f:
    a = f["coefficient"][...]
    u = f["solution"][...]
    p = f["prediction_mgno"][...]
    e = f["error_mgno"][...]
    for x in (a, u, p, e):
        assert x.shape == (2, 1, 32, 32), x.shape
        assert x.dtype == np.float32, x.dtype
        assert np.isfinite(x).all()
    assert set(np.unique(a)) <= {3.0, 12.0}, np.unique(a)
    assert np.abs(u).max() > 0 and np.abs(u[:, :, 0, :]).max() == 0  # u = 0 on the boundary
    assert np.allclose(p - u, e, atol=1e-6)
    assert f.attrs["seed"] == 1
    assert list(f["solution"].attrs["grid_shape"]) == [32, 32]
    # neurops writes fixed-length UTF-8 string attributes (checksummed with their object header;
    # variable-length ones live in HDF5's unchecked global heap): h5py returns them as bytes.
    version = f.attrs["neurops_version"].decode()
    assert isinstance(version, str) and version.count(".") == 2, version
with h5py.File(os.path.join(work, "mgno.h5"), "r") as f:
    assert f["config"].attrs["model"].decode() == "MgNO"
    assert f["parameters/head.weight"].shape == (1, 4, 1, 1)
print("h5py read the neurops files: shapes, dtypes and attributes agree")
