"""h5py reads what neurops writes, as docs/file-formats.md specifies it.

Runs the drivers given on the command line with tiny options, then checks every file they wrote
against the machine-readable tables of the specification (the ```h5spec blocks): each dataset, group
and attribute the document lists is there with the documented type, shape and value, nothing the
document does not list is there, string attributes are fixed-length NUL-padded UTF-8, whole
datasets carry Fletcher32 and the FNV-1a hash the document describes, extendable datasets are
unlimited along the sample axis, and XDMF sidecars point at datasets that exist with the shape and
type they claim. A few values are checked as well (the Darcy fields, the generation counter across
an interrupted and resumed run, the canonical parameter string, the checkpoint's training state).

It also runs every ```python example of the document whose input files this run produced.

  check_h5py.py --work DIR [--demo neurops_demo] [--generate neurops_generate] [--fno-train fno_train]
                [--mgno-darcy mgno_darcy] [--deeponet deeponet_antiderivative] [--tune-sor neurops_tune_sor]
                [--dcdm dcdm_poisson] [--learning-to-relax learning_to_relax] [--sfno-dump sfno_dump]
                [--spec docs/file-formats.md]
"""
import argparse
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import h5py
import numpy as np

HASH = "neurops_fnv1a64"
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- the specification ----------------------------------------------------------------------------

class Entry:
    """One line of an h5spec block: PATH TYPE [SHAPE] [FLAGS] (see the document's last section)."""

    def __init__(self, block, text):
        self.block, self.text = block, text
        tok = text.split()
        if len(tok) < 2:
            raise SyntaxError(f"h5spec {block}: '{text}': expected PATH TYPE ...")
        path, self.type = tok[0], tok[1]
        rest = tok[2:]
        self.obj, _, self.attr = path.partition("@")
        self.attr = self.attr or None
        self.obj_re = glob_re(self.obj)
        self.attr_re = glob_re(self.attr) if self.attr else None
        self.shape = None
        if self.attr is None and self.type != "group":
            if not rest or not (rest[0].startswith("(") or rest[0] == "*"):
                raise SyntaxError(f"h5spec {block}: '{text}': a dataset needs a shape (...) or *")
            token = rest.pop(0)
            self.shape = None if token == "*" else parse_dims(token)
        self.dims = None  # attribute arrays: TYPE[DIM]
        m = re.fullmatch(r"(str|int64|float64)(?:\[([^\]]+)\])?", self.type)
        if self.attr is not None:
            if not m:
                raise SyntaxError(f"h5spec {block}: '{text}': attribute type must be str, int64 or float64[, [DIM]]")
            self.type = m.group(1)
            self.dims = parse_dims("(" + m.group(2) + ")") if m.group(2) else ()
        elif self.type not in ("group", "float32", "float64", "int32", "int64", "uint8", "real"):
            raise SyntaxError(f"h5spec {block}: '{text}': unknown dataset type {self.type}")
        self.optional = "optional" in rest
        self.extendable = "extendable" in rest
        values = [r[1:] for r in rest if r.startswith("=")]
        self.value = values[0] if values else None
        unknown = [r for r in rest if r not in ("optional", "extendable") and not r.startswith("=")]
        if unknown:
            raise SyntaxError(f"h5spec {block}: '{text}': unknown flags {unknown}")
        self.is_glob = "*" in path


def glob_re(pattern):
    return re.compile("".join("[^/@]+" if c == "*" else re.escape(c) for c in pattern))


def parse_dims(token):
    inner = token.strip()[1:-1].strip()
    return tuple(d.strip() for d in inner.split(",") if d.strip()) if inner else ()


def load_spec(path):
    """{block name: [Entry or ('include', name)]} from every ```h5spec NAME... block of the document."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    blocks = {}
    for m in re.finditer(r"^```h5spec[ \t]+([^\n]+)\n(.*?)^```", text, re.M | re.S):
        names = m.group(1).split()
        entries = []
        for raw in m.group(2).splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("include "):
                entries.append(("include", line.split()[1]))
            else:
                entries.append(Entry(names[0], line))
        for n in names:
            if n in blocks:
                raise SyntaxError(f"h5spec block {n} is defined twice")
            blocks[n] = entries
    if not blocks:
        raise SyntaxError(f"{path}: no ```h5spec blocks")
    return blocks


def expand(blocks, names, seen=None):
    seen = seen if seen is not None else set()
    out = []
    for name in names:
        if name not in blocks:
            raise KeyError(f"the specification has no h5spec block '{name}'")
        if name in seen:
            continue
        seen.add(name)
        for e in blocks[name]:
            out.extend(expand(blocks, [e[1]], seen) if isinstance(e, tuple) else [e])
    return out


# ---- checking one file ----------------------------------------------------------------------------

def fnv1a64(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


class Checker:
    def __init__(self, spec_path):
        self.blocks = load_spec(spec_path)
        self.used = set()
        self.files = 0
        self.checked = []  # (path, kinds)

    def check(self, path, kinds, bind=None, count=True):
        """Checks `path` against the blocks `kinds` (with includes); `bind` fixes shape symbols."""
        kinds = [kinds] if isinstance(kinds, str) else kinds
        entries = expand(self.blocks, kinds)
        if count:
            self.used.update(kinds)
            self.used.update(e.block for e in entries)
        env = dict(bind or {})
        errors = []
        with h5py.File(path, "r") as f:
            objs = {"/": f}
            f.visititems(lambda n, o: objs.__setitem__("/" + n, o))
            attrs = [(p, a) for p, o in objs.items() for a in o.attrs.keys() if a != HASH]
            precision = f.attrs.get("precision")
            precision = precision.decode() if isinstance(precision, bytes) else precision
            hits = {}
            for e in entries:
                if e.attr is None:
                    want = h5py.Group if e.type == "group" else h5py.Dataset
                    hits[e] = [p for p in objs if p != "/" and e.obj_re.fullmatch(p) and isinstance(objs[p], want)]
                else:
                    hits[e] = [(p, a) for p, a in attrs if e.obj_re.fullmatch(p) and e.attr_re.fullmatch(a)]
                if not hits[e] and not e.optional:
                    errors.append(f"missing: {e.text}")
                if len(hits[e]) > 1 and not e.is_glob:
                    errors.append(f"{e.text}: matches {hits[e]}")
            # Shape symbols: bound by their first plain occurrence, then checked everywhere.
            for e in entries:
                for h in hits[e] if e.type != "group" else []:
                    shape = objs[h].shape if e.attr is None else objs[h[0]].attrs.get_id(h[1]).shape
                    dims = e.shape if e.attr is None else e.dims
                    if dims is not None and len(dims) == len(shape):
                        for d, n in zip(dims, shape):
                            if d.isidentifier() and d not in env:
                                env[d] = n
            for e in entries:
                for h in hits[e]:
                    where = f"{path}:{h if isinstance(h, str) else h[0] + '@' + h[1]}"
                    msg = (self.check_dataset(e, objs[h], env, precision) if e.type not in ("group",) and e.attr is None
                           else self.check_attr(e, objs[h[0]], h[1], env) if e.attr is not None else None)
                    if msg:
                        errors.append(f"{where}: {msg} (spec: {e.text})")
            listed_objs = {p for e in entries if e.attr is None for p in hits[e]}
            listed_attrs = {h for e in entries if e.attr is not None for h in hits[e]}
            for p in objs:
                if p != "/" and p not in listed_objs:
                    errors.append(f"undocumented {'group' if isinstance(objs[p], h5py.Group) else 'dataset'} {p}")
            for p, a in attrs:
                if (p, a) not in listed_attrs:
                    errors.append(f"undocumented attribute {p}@{a}")
            for p, o in objs.items():
                if isinstance(o, h5py.Group) and HASH in o.attrs:
                    errors.append(f"{p}: {HASH} on a group")
        with open(path, "rb") as raw:
            head = raw.read(9)
        if head[:8] != b"\x89HDF\r\n\x1a\n" or head[8] != 3:
            errors.append(f"superblock version {head[8] if len(head) > 8 else '?'}; the 1.10 format (3) was expected")
        self.files += count
        if count:
            self.checked.append((path, kinds))
        if errors:
            raise AssertionError(f"{path} does not match h5spec {'+'.join(kinds)}:\n  " + "\n  ".join(errors))
        return env

    @staticmethod
    def dims_ok(dims, shape, env):
        if dims is None:
            return True
        if len(dims) != len(shape):
            return False
        for d, n in zip(dims, shape):
            if d == "*":
                continue
            if re.fullmatch(r"\d+", d):
                if int(d) != n:
                    return False
            elif eval(d, {"__builtins__": {}}, env) != n:  # symbols and expressions such as n+1
                return False
        return True

    def check_dataset(self, e, ds, env, precision):
        if e.type == "real":
            if ds.dtype not in (np.float32, np.float64):
                return f"dtype {ds.dtype}, expected float32 or float64"
            if precision and ds.dtype != np.dtype(precision):
                return f"dtype {ds.dtype}, the file's precision attribute says {precision}"
        elif ds.dtype != np.dtype(e.type):
            return f"dtype {ds.dtype}, expected {e.type}"
        if ds.dtype.byteorder not in ("=", "<", "|"):
            return f"byte order {ds.dtype.byteorder}, expected little-endian"
        if not self.dims_ok(e.shape, ds.shape, env):
            return f"shape {ds.shape}, expected ({', '.join(e.shape)}) with {env}"
        if e.extendable:
            if ds.maxshape[0] is not None or ds.chunks is None or not ds.fletcher32:
                return f"expected extendable (maxshape (None, ...), chunked, Fletcher32), found maxshape {ds.maxshape}, " \
                       f"chunks {ds.chunks}, fletcher32 {ds.fletcher32}"
            if HASH in ds.attrs:
                return f"an extendable dataset carries {HASH}"
            return None
        if ds.maxshape != ds.shape:
            return f"maxshape {ds.maxshape}, expected the fixed shape {ds.shape}"
        if ds.is_virtual:  # a view of another file's data (XDMF sidecars): no chunks of its own, no hash
            return f"a virtual dataset carries {HASH}" if HASH in ds.attrs else None
        if ds.size == 0:
            return None if HASH not in ds.attrs else f"an empty dataset carries {HASH}"
        if ds.chunks is None or not ds.fletcher32:
            return f"expected chunked with Fletcher32, found chunks {ds.chunks}, fletcher32 {ds.fletcher32}"
        if max(int(np.prod(ds.chunks)) * ds.dtype.itemsize, ds.dtype.itemsize) > (1 << 20) and ds.chunks != (1,) * ds.ndim:
            return f"chunks {ds.chunks} exceed 1 MiB"
        if HASH not in ds.attrs:
            return f"no {HASH} attribute"
        a = ds.attrs.get_id(HASH)
        if a.dtype != np.int64 or a.shape != ():
            return f"{HASH} is {a.dtype} {a.shape}, expected a scalar int64"
        if ds.nbytes <= (4 << 20):
            stored = int(ds.attrs[HASH]) & 0xFFFFFFFFFFFFFFFF
            if fnv1a64(np.ascontiguousarray(ds[()]).tobytes()) != stored:
                return f"{HASH} = {stored:#x} is not the FNV-1a hash of the data"
        return None

    def check_attr(self, e, obj, name, env):
        a = obj.attrs.get_id(name)
        t = a.get_type()
        cls = t.get_class()
        if e.type == "str":
            if cls != h5py.h5t.STRING:
                return f"type {a.dtype}, expected a string"
            if t.is_variable_str():
                return "variable-length string, expected fixed-length"
            if t.get_cset() != h5py.h5t.CSET_UTF8 or t.get_strpad() != h5py.h5t.STR_NULLPAD:
                return "expected NUL-padded UTF-8"
        elif e.type == "int64":
            if cls != h5py.h5t.INTEGER or t.get_size() != 8 or t.get_sign() != h5py.h5t.SGN_2:
                return f"type {a.dtype}, expected int64"
        elif cls != h5py.h5t.FLOAT or t.get_size() != 8:
            return f"type {a.dtype}, expected float64"
        if e.dims == ():
            if a.shape != ():
                return f"shape {a.shape}, expected a scalar"
        elif not self.dims_ok(e.dims, a.shape, env):
            return f"shape {a.shape}, expected [{', '.join(e.dims)}]"
        if e.value is not None:
            v = obj.attrs[name]
            v = v.decode() if isinstance(v, bytes) else v
            if str(v) != e.value:
                return f"value {v!r}, expected {e.value!r}"
        return None


def check_xdmf(path):
    """Every field of the sidecar is a whole virtual dataset of `<path>.h5` (no hyperslabs, which
    ParaView's default reader cannot read) on a 3DCoRectMesh, with the declared shape and type, that
    maps one grid-sized block of an existing dataset of the data file."""
    root = ET.parse(path).getroot()
    assert root.tag == "Xdmf" and root.get("Version") == "3.0", f"{path}: expected <Xdmf Version=\"3.0\">"
    grids = [g for g in root.iter("Grid") if g.get("GridType") == "Uniform"]
    assert grids, f"{path}: no uniform grid"
    folder = os.path.dirname(path)
    views_name = os.path.basename(path) + ".h5"
    with h5py.File(os.path.join(folder, views_name), "r") as views:
        for g in grids:
            topo = g.find("Topology")
            assert topo.get("TopologyType") == "3DCoRectMesh", f"{path}: topology {topo.get('TopologyType')}"
            dims = [int(x) for x in topo.get("Dimensions").split()]
            assert len(dims) == 3
            geo = g.find("Geometry")
            assert geo.get("GeometryType") == "ORIGIN_DXDYDZ"
            for item in geo.findall("DataItem"):
                assert len(item.text.split()) == 3, f"{path}: origin/spacing {item.text!r}"
            attributes = g.findall("Attribute")
            assert attributes, f"{path}: grid without fields"
            for att in attributes:
                assert att.get("Center") == "Node" and att.get("AttributeType") == "Scalar"
                items = att.findall(".//DataItem")
                assert len(items) == 1 and items[0].get("Format") == "HDF", f"{path}: {att.get('Name')} is not one HDF item"
                hdf = items[0]
                file_name, _, dataset = hdf.text.strip().partition(":")
                assert file_name == views_name, f"{path}: {hdf.text.strip()} is not in {views_name}"
                assert dataset in views, f"{path}: {hdf.text.strip()} does not exist"
                ds = views[dataset]
                shape = tuple(int(x) for x in hdf.get("Dimensions").split())
                assert shape == ds.shape == tuple(dims), f"{path}: {dataset} declared {shape}, is {ds.shape}, grid {dims}"
                kind = {"f": "Float", "i": "Int", "u": "UChar"}[ds.dtype.kind]
                assert hdf.get("NumberType") == kind and int(hdf.get("Precision")) == ds.dtype.itemsize, \
                    f"{path}: {dataset} declared {hdf.get('NumberType')}{hdf.get('Precision')}, is {ds.dtype}"
                assert ds.is_virtual and len(ds.virtual_sources()) == 1, f"{path}: {dataset} is not one virtual mapping"
                src = ds.virtual_sources()[0]
                with h5py.File(os.path.join(folder, src.file_name), "r") as f:
                    assert src.dset_name in f, f"{path}: {dataset} maps {src.file_name}:{src.dset_name}, which does not exist"
                    _, end = src.src_space.get_select_bounds()
                    assert all(e < n for e, n in zip(end, f[src.dset_name].shape)) and len(end) == f[src.dset_name].ndim, \
                        f"{path}: {dataset} selects up to {end} in {src.dset_name} {f[src.dset_name].shape}"
                    assert f[src.dset_name].dtype == ds.dtype, f"{path}: {dataset} is {ds.dtype}, its source {f[src.dset_name].dtype}"
                    assert src.src_space.get_select_npoints() == int(np.prod(dims)), \
                        f"{path}: {dataset} selects {src.src_space.get_select_npoints()} points, not one {dims} grid"


# ---- the document's h5py snippets -----------------------------------------------------------------

def run_snippets(spec_path, files, work):
    """Runs every ```python block of the document whose input files (the names it passes to
    h5py.File(..., "r")) are among `files` {name in the document: file written here}, in a folder
    where those names point at these files. Returns (run, skipped)."""
    with open(spec_path, encoding="utf-8") as f:
        text = f.read()
    folder = os.path.join(work, "snippets")
    for name, target in files.items():
        link = os.path.join(folder, name)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(target), link)
    run, skipped = 0, 0
    for m in re.finditer(r"^( *)```python\n(.*?)^ *```", text, re.M | re.S):
        code = "\n".join(line[len(m.group(1)):] for line in m.group(2).splitlines())
        inputs = re.findall(r"h5py\.File\(\"([^\"]+)\", \"r\"\)", code)
        if any(name not in files for name in inputs):
            skipped += 1
            continue
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the snippets print what they read
                exec(compile(code, f"{spec_path}, python block at offset {m.start()}", "exec"),
                     {"h5py": h5py, "np": np, "w": np.zeros((2, 50, 4, 4))})  # w: the time-series example's data
        except Exception as e:
            raise AssertionError(f"the document's h5py snippet failed ({type(e).__name__}: {e}):\n{code}") from e
        finally:
            os.chdir(cwd)
        run += 1
    return run, skipped


# ---- the drivers ----------------------------------------------------------------------------------

def run(args, cwd=None):
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    t = time.time()
    p = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout[-3000:]}")
    print(f"  {os.path.basename(args[0])} {' '.join(args[1:4])} ... {time.time() - t:.1f} s")
    return p.stdout


def decoded(v):
    return v.decode() if isinstance(v, bytes) else v


SNIPPET_FILES = {}  # name in the document's snippets -> a file this run wrote


def check_demo(c, exe, work):
    out = os.path.join(work, "demo")
    SNIPPET_FILES.update({"mgno.h5": os.path.join(out, "mgno.h5"), "demo_output/darcy.h5": os.path.join(out, "darcy.h5"),
                          "demo_output/test_data.h5": os.path.join(out, "test_data.h5")})
    run([exe, "-demo_n", "32", "-demo_train", "8", "-demo_test", "2", "-demo_epochs", "1", "-demo_width", "4",
         "-demo_layers", "1", "-demo_out", out])
    c.check(os.path.join(out, "darcy.h5"), "darcy-fields", {"S": 2, "n": 32})
    c.check(os.path.join(out, "test_data.h5"), "field-dataset", {"N": 2, "n": 32})
    c.check(os.path.join(out, "mgno.h5"), ["model-file", "config-MgNO2d"])
    check_xdmf(os.path.join(out, "darcy.xdmf"))
    with h5py.File(os.path.join(out, "darcy.h5"), "r") as f:
        a, u, p, e = (f[k][...] for k in ("coefficient", "solution", "prediction_mgno", "error_mgno"))
        for x in (a, u, p, e):
            assert np.isfinite(x).all()
        assert set(np.unique(a)) <= {3.0, 12.0}, np.unique(a)
        assert np.abs(u).max() > 0 and np.abs(u[:, :, 0, :]).max() == 0  # u = 0 on the boundary
        assert np.allclose(p - u, e, atol=1e-6)
        assert f.attrs["seed"] == 1
        # h5py returns neurops' fixed-length UTF-8 string attributes as bytes.
        version = f.attrs["neurops_version"]
        assert isinstance(version, bytes) and version.decode().count(".") == 2, version
    with h5py.File(os.path.join(out, "mgno.h5"), "r") as f:
        assert decoded(f.attrs["model_type"]) == "MgNO2d" and decoded(f["config"].attrs["model"]) == "MgNO"
        assert f["parameters/head.weight"].shape == (1, 4, 1, 1)
        assert list(f["config"].attrs["training_grid"]) == [32, 32]
        assert decoded(f["normalizers/input"].attrs["kind"]) == "unit_gaussian_pointwise"
        assert f["normalizers/input/shift"].shape == (1, 32, 32)


def check_generate(c, exe, work):
    out = os.path.join(work, "generate")
    os.makedirs(out, exist_ok=True)
    darcy = os.path.join(out, "darcy.h5")
    # An interrupted run (5 of 10 samples), then -gen_resume: the counter and the rows move together.
    common = [exe, "-gen_problem", "darcy", "-gen_samples", "10", "-darcy_n", "17", "-gen_chunk", "5", "-gen_seed", "3", "-gen_out", darcy]
    run(common + ["-gen_overwrite", "-gen_max_new_samples", "5"])
    with h5py.File(darcy, "r") as f:
        assert f.attrs["completed"] == 5 and f.attrs["samples"] == 10 and f["inputs"].shape[0] == 5
        first = f["outputs"][...]
        assert f["inputs"].chunks[0] == 5
    run(common + ["-gen_resume"])
    env = c.check(darcy, "generate-darcy", {"N": 10, "n": 17})
    with h5py.File(darcy, "r") as f:
        assert f.attrs["completed"] == 10 and np.array_equal(f["outputs"][:5], first)
        # `parameters` is "name=value; " for every parameter attribute, in declaration order.
        pairs = [p.split("=", 1) for p in decoded(f.attrs["parameters"]).split("; ") if p]
        assert pairs[0] == ["problem", "darcy"], pairs
        for name, value in pairs:
            v = f.attrs[name]
            assert name in f.attrs and (decoded(v) == value if isinstance(v, bytes) else True), (name, value)
        assert f["ksp_iterations"][...].min() >= 1
    check_xdmf(os.path.join(out, "darcy.xdmf"))
    SNIPPET_FILES["darcy.h5"] = darcy
    ns = os.path.join(out, "ns.h5")
    run([exe, "-gen_problem", "navier_stokes", "-gen_samples", "2", "-ns_n", "32", "-ns_store", "16", "-ns_dt", "0.01",
         "-ns_times", "0.05,0.1", "-gen_overwrite", "-gen_out", ns])
    c.check(ns, "generate-navier_stokes", {"N": 2, "s": 16, "n": 32, "T": 2})
    check_xdmf(os.path.join(out, "ns.xdmf"))
    # The Spectral-Refiner preset (warm-up, evenly spaced snapshots, bilinear coarsening) on a tiny grid.
    sfno = os.path.join(out, "ns_sfno.h5")
    run([exe, "-gen_problem", "navier_stokes", "-ns_preset", "sfno", "-gen_samples", "2", "-ns_n", "32", "-ns_store", "16",
         "-ns_dt", "0.01", "-ns_warmup", "0.05", "-ns_t_end", "0.1", "-ns_snapshots", "5", "-gen_overwrite", "-gen_out", sfno])
    c.check(sfno, "generate-navier_stokes", {"N": 2, "s": 16, "n": 32, "T": 5})
    with h5py.File(sfno, "r") as f:
        assert decoded(f.attrs["preset"]) == "sfno" and decoded(f.attrs["coarsening"]) == "bilinear"
        assert f.attrs["snapshots"] == 5 and abs(f.attrs["times"][-1] - 0.09) < 1e-12, f.attrs["times"]
    for problem, m, bind in (("antiderivative", 20, {"C": 1, "P": 1}), ("pendulum", 20, {"C": 2, "P": 1})):
        path = os.path.join(out, problem + ".h5")
        run([exe, "-gen_problem", problem, "-gen_samples", "3", "-deeponet_sensors", str(m), "-deeponet_grf_points", "100",
             "-gen_overwrite", "-gen_out", path])
        c.check(path, "generate-ode", dict(bind, N=3, m=m))
    dr = os.path.join(out, "diffusion_reaction.h5")
    run([exe, "-gen_problem", "diffusion_reaction", "-gen_samples", "2", "-deeponet_sensors", "12", "-deeponet_time_levels",
         "10", "-deeponet_grf_points", "100", "-deeponet_queries", "5", "-gen_overwrite", "-gen_out", dr])
    c.check(dr, "generate-diffusion_reaction", {"N": 2, "m": 12, "Nt": 10, "P": 5})
    check_xdmf(os.path.join(out, "diffusion_reaction.xdmf"))
    return darcy


def check_fno_train(c, exe, data, work):
    out = os.path.join(work, "fno")
    SNIPPET_FILES.update({f"fno_output/{n}.h5": os.path.join(out, n + ".h5") for n in ("predictions", "checkpoint", "history")})
    SNIPPET_FILES["fno_64.h5"] = os.path.join(out, "best.h5")
    run([exe, "-fno_data", data, "-fno_train_fraction", "0.6", "-fno_validation_fraction", "0.2", "-fno_epochs", "2",
         "-fno_batch", "3", "-fno_width", "4", "-fno_modes", "3", "-fno_layers", "1", "-fno_projection", "8",
         "-fno_out", out, "-fno_overwrite"])
    c.check(os.path.join(out, "checkpoint.h5"), ["checkpoint", "config-FNO2d"], {"P": 2})
    c.check(os.path.join(out, "best.h5"), ["checkpoint", "config-FNO2d"])  # the state at the best point
    c.check(os.path.join(out, "history.h5"), "history", {"P": 2})
    c.check(os.path.join(out, "test_data.h5"), "field-dataset", {"N": 2, "n": 17})
    c.check(os.path.join(out, "predictions.h5"), "fno-predictions", {"S": 2, "n": 17})
    check_xdmf(os.path.join(out, "predictions.xdmf"))
    with h5py.File(os.path.join(out, "checkpoint.h5"), "r") as f:
        assert f.attrs["format_version"] == 2 and decoded(f.attrs["precision"]) == "float32"
        t = f["training"]
        assert t.attrs["epoch"] == 2 and t.attrs["step"] == 4 and list(t["steps"][...]) == [2.0, 4.0]
        assert decoded(f["optimizer"].attrs["type"]) == "AdamW" and f["optimizer"].attrs["steps"] == 4
        assert f["optimizer/lifting.weight/exp_avg"].shape == f["parameters/lifting.weight"].shape
        assert f["parameters/blocks.0.spectral.weight0"].attrs["complex"] == 1
        assert f["parameters/blocks.0.spectral.weight0"].shape[-1] == 2


def check_deeponet(c, exe, work):
    out = os.path.join(work, "deeponet")
    SNIPPET_FILES.update({f"deeponet_output/{n}.h5": os.path.join(out, n + ".h5") for n in ("test_data", "antiderivative")})
    run([exe, "-deeponet_train", "20", "-deeponet_test", "3", "-deeponet_iterations", "4", "-deeponet_display_every",
         "2", "-deeponet_sensors", "10", "-deeponet_width", "5", "-deeponet_save_samples", "2", "-deeponet_out", out])
    c.check(os.path.join(out, "checkpoint.h5"), ["checkpoint", "config-DeepONet"], {"P": 2})
    c.check(os.path.join(out, "best.h5"), ["checkpoint", "config-DeepONet"])
    c.check(os.path.join(out, "history.h5"), "history", {"P": 2})
    c.check(os.path.join(out, "test_data.h5"), "deeponet-triples", {"N": 3, "m": 10, "P": 10, "d": 1})
    c.check(os.path.join(out, "antiderivative.h5"), "deeponet-fields", {"S": 2, "m": 10, "rows": 1, "cols": 10})
    check_xdmf(os.path.join(out, "antiderivative.xdmf"))


def check_mgno_darcy(c, exe, work):
    out = os.path.join(work, "mgno_darcy")
    run([exe, "-mgno_grids", "32", "-mgno_train", "4", "-mgno_test", "2", "-mgno_epochs", "1", "-mgno_width", "4",
         "-mgno_layers", "1", "-mgno_fno_width", "4", "-mgno_fno_modes", "4", "-mgno_save_samples", "2",
         "-mgno_out", out])
    c.check(os.path.join(out, "darcy_32.h5"), "darcy-fields", {"S": 2, "n": 32})
    check_xdmf(os.path.join(out, "darcy_32.xdmf"))
    c.check(os.path.join(out, "test_data_32.h5"), "field-dataset", {"N": 2, "n": 32})
    c.check(os.path.join(out, "fno_32.h5"), ["model-file", "config-FNO2d"])
    c.check(os.path.join(out, "mgno_32.h5"), ["model-file", "config-MgNO2d"])
    with h5py.File(os.path.join(out, "darcy_32.h5"), "r") as f:
        assert {"prediction_mgno", "prediction_fno", "error_mgno", "error_fno"} <= set(f.keys())
    with h5py.File(os.path.join(out, "test_data_32.h5"), "r") as f:
        assert decoded(f.attrs["fno_checkpoint"]) == "fno_32.h5" and decoded(f.attrs["mgno_checkpoint"]) == "mgno_32.h5"


def check_tune_sor(c, exe, work):
    out = os.path.join(work, "tune_sor")
    os.makedirs(out, exist_ok=True)
    run([exe, "-tune_family", "ltr_low", "-tune_count", "2", "-tune_arms", "4", "-tune_write_systems", "systems",
         "-tune_out", "tune"], cwd=out)
    c.check(os.path.join(out, "tune.h5"), "tune-sor", {"K": 2, "A": 4})
    SNIPPET_FILES.update({"tune_sor.h5": os.path.join(out, "tune.h5"),
                          "system_0000.h5": os.path.join(out, "systems", "system_0000.h5")})
    for k in range(2):
        path = os.path.join(out, "systems", f"system_{k:04d}.h5")
        c.check(path, "linear-system")
        with h5py.File(path, "r") as f:  # scipy's csr_matrix((data, ir, jc)) is A
            jc, ir, data, b = (f[k][...] for k in ("A/jc", "A/ir", "A/data", "b"))
            n = b.shape[0]
            assert jc[0] == 0 and jc[-1] == len(ir) == len(data) and f["A"].attrs["MATLAB_sparse"] == n
            dense = np.zeros((n, n))
            for i in range(n):
                dense[i, ir[jc[i]:jc[i + 1]]] = data[jc[i]:jc[i + 1]]
            assert np.allclose(dense, dense.T) and (np.diag(dense) > 0).all()
    # Learner states (section 10.3), one per learner with its own datasets; a resumed run carries on.
    for learner in ("tsallis", "chebcb", "binned"):
        state = os.path.join(out, f"state_{learner}.h5")
        for resume in ([], ["-tune_resume"]):
            run([exe, "-tune_family", "ltr_low", "-tune_count", "3", "-tune_arms", "4", "-tune_learner", learner,
                 "-tune_bins", "2", "-tune_regret", "0", "-tune_state", state, "-tune_out", "state_run"] + resume, cwd=out)
        c.check(state, f"learner-state-{learner}", {"K": 4})
        with h5py.File(state, "r") as f:
            assert f["rounds"][0] == 6 and f["pulls"][()].sum() == 6 and decoded(f.attrs["learner"]) == learner
    SNIPPET_FILES["omega_state.h5"] = os.path.join(out, "state_binned.h5")


def check_tune_configs(c, exe, work):
    """The configbandit learner state (section 10.4), written by the driver's bandit and continued."""
    out = os.path.join(work, "tune_configs")
    os.makedirs(out, exist_ok=True)
    state = os.path.join(out, "configs_state.h5")
    for _ in range(2):
        run([exe, "-tcfg_problems", "darcy", "-tcfg_solves", "4", "-tcfg_darcy_n", "9", "-tcfg_configs",
             "jacobi;sor -pc_sor_omega 1.5;icc", "-tcfg_bandit_pc_configbandit_state", state, "-tcfg_out", "configs"],
            cwd=out)
    c.check(state, "learner-configs-tsallis", {"K": 3})
    with h5py.File(state, "r") as f:
        assert f["rounds"][0] == 8 and decoded(f.attrs["arm_set"][1]) == "sor -pc_sor_omega 1.5"
    SNIPPET_FILES["configs_state.h5"] = state


def check_dcdm(c, exe, work):
    out = os.path.join(work, "dcdm")
    run([exe, "-dcdm_n", "4", "-dcdm_samples", "10", "-dcdm_epochs", "1", "-dcdm_batch", "5", "-dcdm_net_channels",
         "2", "-dcdm_net_pre_convs", "2", "-dcdm_net_mid_convs", "0", "-dcdm_net_post_convs", "0", "-dcdm_test_n", "4",
         "-dcdm_no_baselines", "-dcdm_rhs", "random", "-dcdm_out", out])
    c.check(os.path.join(out, "data.h5"), "dcdm-data", {"N": 10, "n": 4})
    SNIPPET_FILES["dcdm_poisson_output/data.h5"] = os.path.join(out, "data.h5")
    c.check(os.path.join(out, "model.h5"), ["dcdm-model", "config-DCDMNet3d"])
    c.check(os.path.join(out, "training", "checkpoint.h5"), ["checkpoint", "config-DCDMNet3d"], {"P": 1})


def check_shipped_model(c, path):
    """models/dcdm_poisson.h5 is the one file of an older writer the document describes (section 8.2):
    its attributes are those of the dcdm-model table, in the legacy encoding the document lists."""
    legacy = "models/dcdm_poisson.h5 no longer matches the legacy paragraph of docs/file-formats.md section 8.2"
    with open(path, "rb") as raw:
        assert raw.read(9)[8] == 0, f"{legacy}: superblock version"
    spec = expand(c.blocks, ["dcdm-model", "config-DCDMNet3d"])
    with h5py.File(path, "r") as f:
        assert f.attrs["format_version"] == 1 and decoded(f.attrs["model_type"]) == "DCDMNet3d", legacy
        assert f.attrs.get_id("model_type").get_type().is_variable_str(), f"{legacy}: strings"
        assert "training_grid" not in f["config"].attrs and "normalizers" not in f, legacy
        for group in ("/", "/config"):
            documented = {e.attr for e in spec if e.attr is not None and e.obj == group} - {"training_grid"}
            assert set(f[group].attrs.keys()) == documented, f"{legacy}: {group} attributes " \
                f"{sorted(set(f[group].attrs.keys()) ^ documented)}"
        for name, ds in f["parameters"].items():
            assert ds.chunks is None and HASH not in ds.attrs and ds.dtype == np.float32, f"{legacy}: {name}"
            assert set(ds.attrs.keys()) == {"trainable", "complex"}, f"{legacy}: {name} attributes"
    c.used.add("dcdm-model")


def check_learning_to_relax(c, exe, work):
    out = os.path.join(work, "ltr")
    run([exe, "-ltr_instances", "3", "-ltr_trials", "1", "-ltr_heat_nx", "4", "-ltr_heat_steps", "2",
         "-ltr_variance", "high", "-ltr_out", out])
    c.check(os.path.join(out, "learning_to_relax.h5"), "learning-to-relax", {"G": 20})
    SNIPPET_FILES["ltr_output/learning_to_relax.h5"] = os.path.join(out, "learning_to_relax.h5")


def check_sfno_dump(c, exe, work):
    out = os.path.join(work, "sfno")
    run([exe, out])
    c.check(os.path.join(out, "sfno.h5"), ["model-file", "config-SFNO"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    ap.add_argument("--spec", default=os.path.join(HERE, "..", "..", "docs", "file-formats.md"))
    for name in ("demo", "generate", "fno-train", "mgno-darcy", "deeponet", "tune-sor", "dcdm", "learning-to-relax",
                 "sfno-dump", "tune-configs"):
        ap.add_argument("--" + name, help="the driver's executable")
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    c = Checker(a.spec)
    if a.demo:
        check_demo(c, a.demo, a.work)
    data = check_generate(c, a.generate, a.work) if a.generate else None
    if a.fno_train and data:
        check_fno_train(c, a.fno_train, data, a.work)
    if a.mgno_darcy:
        check_mgno_darcy(c, a.mgno_darcy, a.work)
    if a.deeponet:
        check_deeponet(c, a.deeponet, a.work)
    if a.tune_sor:
        check_tune_sor(c, a.tune_sor, a.work)
    if a.tune_configs:
        check_tune_configs(c, a.tune_configs, a.work)
    if a.dcdm:
        check_dcdm(c, a.dcdm, a.work)
    if a.learning_to_relax:
        check_learning_to_relax(c, a.learning_to_relax, a.work)
    if a.sfno_dump:
        check_sfno_dump(c, a.sfno_dump, a.work)
    shipped = os.path.join(os.path.dirname(os.path.abspath(a.spec)), "..", "models", "dcdm_poisson.h5")
    if os.path.exists(shipped):
        SNIPPET_FILES["models/dcdm_poisson.h5"] = shipped
        if a.dcdm:
            check_shipped_model(c, shipped)
    snippets, skipped = run_snippets(a.spec, SNIPPET_FILES, a.work)
    print(f"{snippets} h5py snippets of the document ran on these files ({skipped} need files of other drivers)")
    unchecked = sorted(set(c.blocks) - c.used)
    if not c.files:
        raise RuntimeError("no driver given: nothing was checked")
    # The checker must be able to fail: a file of one kind is rejected by another kind's table.
    path, kinds = next((p, k) for p, k in c.checked if k != ["linear-system"])
    try:
        c.check(path, "linear-system", count=False)
        raise RuntimeError(f"the linear-system table accepted {path} ({'+'.join(kinds)})")
    except AssertionError:
        pass
    print(f"h5py read {c.files} neurops files as docs/file-formats.md specifies them "
          f"({len(c.used)} of {len(c.blocks)} h5spec blocks checked; not produced here: {', '.join(unchecked) or 'none'})")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, RuntimeError, SyntaxError, KeyError) as e:
        print(f"check_h5py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
