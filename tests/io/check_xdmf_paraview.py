"""ParaView opens every XDMF sidecar the drivers write, with its default reader, and shows the data.

Runs the drivers given on the command line on tiny problems (the commands of check_h5py.py, which
also checks the files against docs/file-formats.md), collects every .xdmf they wrote (and those in
the --outputs folders of drivers run by other tests), and for each sidecar:

  * checks its virtual-dataset file <name>.xdmf.h5 against the xdmf-views table of the document;
  * works out from the data file alone what each step must show: a series over the samples (time s
    shows sample s), one block per sample over the snapshot times of the file's `times` attribute, or
    the frames of a file with `frame_dt` (time (t+1) frame_dt shows frame t);
  * then pvbatch (ParaView's Python, paraview_read_xdmf.py) opens it with OpenDataFile (the default
    reader, Xdmf3ReaderS) and with the legacy XDMFReader, steps through every time value, and
    compares every array with h5py's reading of the same slice of the data file, and the bounds
    of 2-D grids with the x-y plane.

pvbatch missing is a failure: Debian's paraview and python3-paraview (scripts/install-deps.sh).

  check_xdmf_paraview.py --work DIR [--pvbatch pvbatch] [--demo neurops_demo] [--generate neurops_generate]
                         [--fno-train fno_train] [--mgno-darcy mgno_darcy] [--deeponet deeponet_antiderivative]
                         [--outputs DIR ...] [--spec docs/file-formats.md]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_h5py  # noqa: E402  (the driver commands and the h5spec checker)


def decoded(v):
    return v.decode() if isinstance(v, bytes) else v


def read_sidecar(path):
    """[(block name, [(time or None, {array: views dataset})])] and the grid {dims, origin, spacing}."""
    domain = ET.parse(path).getroot().find("Domain")
    blocks, grid = [], None
    for top in domain.findall("Grid"):
        uniform = [top] if top.get("GridType") == "Uniform" else top.findall("Grid")
        steps = []
        for g in uniform:
            t = g.find("Time")
            arrays = {a.get("Name"): a.find("DataItem").text.strip().partition(":")[2] for a in g.findall("Attribute")}
            steps.append((float(t.get("Value")) if t is not None else None, arrays))
            items = g.find("Geometry").findall("DataItem")
            this = {"dims": [int(x) for x in g.find("Topology").get("Dimensions").split()],
                    "origin": [float(x) for x in items[0].text.split()],
                    "spacing": [float(x) for x in items[1].text.split()]}
            assert grid in (None, this), f"{path}: grids differ between steps"
            grid = this
        blocks.append((top.get("Name"), steps))
    return blocks, grid


def source_of(views, name):
    """(data file name, dataset, start, count) that the virtual dataset `name` maps."""
    ds = views[name]
    assert ds.is_virtual, f"{views.filename}:{name} is not a virtual dataset"
    (src,) = ds.virtual_sources()
    lo, hi = src.src_space.get_select_bounds()
    return src.file_name, src.dset_name, list(lo), [b - a + 1 for a, b in zip(lo, hi)]


def expected_layout(path, blocks, data, views, folder):
    """Checks what the steps show against what the data file holds; returns the manifest entries."""
    completed = int(data.attrs["completed"]) if "completed" in data.attrs else None
    sources = {}
    for _, steps in blocks:
        for _, arrays in steps:
            for array, name in arrays.items():
                sources[name] = source_of(views, name)
    datasets = {src[1] for src in sources.values()}
    rows = min(data[d].shape[0] for d in datasets)
    samples = completed if completed is not None else rows
    if all(re.fullmatch(r"sample_\d+", b) for b, _ in blocks) and "times" in data.attrs:
        kind, times = "snapshots", [float(t) for t in data.attrs["times"]]
        assert [b for b, _ in blocks] == [f"sample_{s}" for s in range(samples)], f"{path}: blocks {[b for b, _ in blocks]}"
        for s, (_, steps) in enumerate(blocks):
            assert [t for t, _ in steps] == times, f"{path}: sample {s} times {[t for t, _ in steps]}, file {times}"
            for k, (_, arrays) in enumerate(steps):
                for name in arrays.values():
                    _, d, start, _ = sources[name]
                    channel = k if data[d].shape[1] == len(times) else 0
                    assert start[:2] == [s, channel], f"{path}: sample {s} step {k} shows {d}{start[:2]}"
    else:
        assert len(blocks) == 1, f"{path}: {len(blocks)} blocks without a snapshot axis"
        steps = blocks[0][1]
        if "frame_dt" in data.attrs:
            kind, dt = "frames", float(data.attrs["frame_dt"])
            times = [(t + 1) * dt for t in range(rows)]
        else:
            kind, times = "samples", [float(s) for s in range(samples)]
        assert [t for t, _ in steps] == times, f"{path}: times {[t for t, _ in steps]}, expected {times} ({kind})"
        for k, (_, arrays) in enumerate(steps):
            for name in arrays.values():
                _, d, start, _ = sources[name]
                assert start[0] == k, f"{path}: step {k} shows {d}{start}"
    return kind, {name: {"file": os.path.join(folder, src[0]), "dataset": src[1], "start": src[2], "count": src[3]}
                  for name, src in sources.items()}


def manifest_entry(checker, path):
    folder = os.path.dirname(path)
    views_path = path + ".h5"
    checker.check(views_path, "xdmf-views")
    blocks, grid = read_sidecar(path)
    with h5py.File(views_path, "r") as views:
        data_name = decoded(views.attrs["source"])
        with h5py.File(os.path.join(folder, data_name), "r") as data:
            kind, sources = expected_layout(path, blocks, data, views, folder)
    return {"path": path, "kind": kind, "grid": grid, "sources": sources,
            "blocks": [{"name": b, "steps": [{"time": t, "arrays": a} for t, a in steps]} for b, steps in blocks]}


def run_drivers(a, checker):
    work = a.work
    if a.demo:
        check_h5py.check_demo(checker, a.demo, work)
    data = check_h5py.check_generate(checker, a.generate, work) if a.generate else None
    if a.fno_train and data:
        check_h5py.check_fno_train(checker, a.fno_train, data, work)
    if a.mgno_darcy:
        check_h5py.check_mgno_darcy(checker, a.mgno_darcy, work)
    if a.deeponet:
        check_h5py.check_deeponet(checker, a.deeponet, work)


def sidecars(folders):
    found = []
    for folder in folders:
        for root, _, files in os.walk(folder):
            found += [os.path.join(root, f) for f in files if f.endswith(".xdmf")]
    return sorted(found)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    ap.add_argument("--spec", default=os.path.join(HERE, "..", "..", "docs", "file-formats.md"))
    ap.add_argument("--pvbatch", default="pvbatch")
    ap.add_argument("--outputs", nargs="*", default=[], help="folders of drivers run by other tests")
    for name in ("demo", "generate", "fno-train", "mgno-darcy", "deeponet"):
        ap.add_argument("--" + name, help="the driver's executable")
    a = ap.parse_args()
    pvbatch = shutil.which(a.pvbatch)
    if not pvbatch:
        raise RuntimeError(f"{a.pvbatch} not found: install Debian's paraview and python3-paraview "
                           "(scripts/install-deps.sh); ParaView reading the sidecars is what this test checks")
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    checker = check_h5py.Checker(a.spec)
    run_drivers(a, checker)
    for folder in a.outputs:
        if not os.path.isdir(folder):
            raise RuntimeError(f"--outputs {folder}: no such folder (did the driver's test run?)")
    paths = sidecars([a.work] + a.outputs)
    if not paths:
        raise RuntimeError("no .xdmf file was written: nothing to open")
    manifest = [manifest_entry(checker, p) for p in paths]
    if a.generate:  # the document's example of section 11 reads the generated Darcy file's sidecar
        check_h5py.SNIPPET_FILES["darcy.xdmf.h5"] = os.path.join(a.work, "generate", "darcy.xdmf.h5")
        ran, _ = check_h5py.run_snippets(a.spec, check_h5py.SNIPPET_FILES, a.work)
        print(f"{ran} h5py snippets of the document ran")
    manifest_path = os.path.join(a.work, "paraview_manifest.json")
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    p = subprocess.run([pvbatch, os.path.join(HERE, "paraview_read_xdmf.py"), manifest_path], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(p.stdout)
    if p.returncode != 0 or f"paraview_read_xdmf: {len(manifest)} sidecars read" not in p.stdout:
        raise RuntimeError(f"pvbatch failed ({p.returncode}) on {manifest_path}")
    kinds = {}
    for m in manifest:
        kinds[m["kind"]] = kinds.get(m["kind"], 0) + 1
    print(f"ParaView showed all {len(manifest)} sidecars with both readers "
          f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, RuntimeError, SyntaxError, KeyError) as e:
        print(f"check_xdmf_paraview: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
