"""pvbatch part of check_xdmf_paraview.py: opens each sidecar of the manifest with ParaView's default
reader (OpenDataFile must pick Xdmf3ReaderS) and with the legacy XDMFReader, steps through every
time value, and compares every point array with h5py's reading of the slice of the data file the
manifest names, and the bounds with the grid (a 2-D grid must lie in the x-y plane).

  pvbatch paraview_read_xdmf.py MANIFEST.json
"""
import json
import sys

import h5py
import numpy as np
from paraview import servermanager
from paraview import simple
from vtkmodules.numpy_interface import dataset_adapter as dsa

DEFAULT_READER = "Xdmf3ReaderS"


def leaves(data):
    """The datasets of a (possibly composite) data object, in block order."""
    if not data.IsA("vtkCompositeDataSet"):
        return [data]
    it = data.NewTreeIterator()
    it.VisitOnlyLeavesOn()
    it.InitTraversal()
    out = []
    while not it.IsDoneWithTraversal():
        out.append(it.GetCurrentDataObject())
        it.GoToNextItem()
    return out


def expected_array(source, cache):
    key = (source["file"], source["dataset"], tuple(source["start"]))
    if key not in cache:
        with h5py.File(source["file"], "r") as f:
            sel = tuple(slice(s, s + c) for s, c in zip(source["start"], source["count"]))
            cache[key] = np.ascontiguousarray(f[source["dataset"]][sel]).ravel()
    return cache[key]


def check_bounds(where, leaf, grid):
    nz, ny, nx = grid["dims"]
    oz, oy, ox = grid["origin"]
    dz, dy, dx = grid["spacing"]
    want = [ox, ox + (nx - 1) * dx, oy, oy + (ny - 1) * dy, oz, oz + (nz - 1) * dz]
    got = list(leaf.GetBounds())
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12), f"{where}: bounds {got}, expected {want}"
    if nz == 1:
        assert got[4] == got[5] == 0 and got[1] > got[0] and (ny == 1 or got[3] > got[2]), \
            f"{where}: a 2-D grid outside the x-y plane, bounds {got}"


def check_reader(entry, reader, label, cache):
    path = entry["path"]
    blocks = entry["blocks"]
    times = sorted({s["time"] for b in blocks for s in b["steps"] if s["time"] is not None})
    got_times = list(reader.TimestepValues) if reader.TimestepValues else []
    if isinstance(reader.TimestepValues, float):
        got_times = [reader.TimestepValues]
    assert np.allclose(got_times, times, rtol=1e-12, atol=0) and len(got_times) == len(times), \
        f"{path} ({label}): time values {got_times}, expected {times}"
    compared = 0
    for t in times or [None]:
        reader.UpdatePipeline(t) if t is not None else reader.UpdatePipeline()
        data = leaves(servermanager.Fetch(reader))
        assert len(data) == len(blocks), f"{path} ({label}) t={t}: {len(data)} blocks, expected {len(blocks)}"
        for block, leaf in zip(blocks, data):
            where = f"{path} ({label}) {block['name']} t={t}"
            step = next(s for s in block["steps"] if s["time"] == t)
            check_bounds(where, leaf, entry["grid"])
            arrays = dsa.WrapDataObject(leaf).PointData
            assert sorted(arrays.keys()) == sorted(step["arrays"]), \
                f"{where}: arrays {sorted(arrays.keys())}, expected {sorted(step['arrays'])}"
            for name, view in step["arrays"].items():
                got = np.asarray(arrays[name])
                want = expected_array(entry["sources"][view], cache)
                assert got.dtype == want.dtype and np.array_equal(got, want), \
                    f"{where}: array {name} ({got.dtype} {got.shape}) differs from h5py's {entry['sources'][view]}"
                compared += 1
    return len(times), compared


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        manifest = json.load(f)
    cache = {}
    for entry in manifest:
        default = simple.OpenDataFile(entry["path"])
        assert default is not None, f"{entry['path']}: ParaView has no reader for it"
        name = default.GetXMLName()
        assert name == DEFAULT_READER, f"{entry['path']}: OpenDataFile chose {name}, not {DEFAULT_READER}"
        times, arrays = check_reader(entry, default, name, cache)
        simple.Delete(default)
        legacy = simple.XDMFReader(FileNames=[entry["path"]])
        check_reader(entry, legacy, "XDMFReader", cache)
        simple.Delete(legacy)
        print(f"{entry['path']}: {entry['kind']}, {len(entry['blocks'])} block(s), {times} time value(s), "
              f"{arrays} arrays equal to h5py with {DEFAULT_READER} and XDMFReader")
    print(f"paraview_read_xdmf: {len(manifest)} sidecars read")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # pvbatch: a failed check must end the process with a non-zero status
        print(f"paraview_read_xdmf: {type(e).__name__}: {e}", file=sys.stderr)
        sys.stdout.flush()
        sys.exit(1)
