"""A petsc4py script keeps learning omega across processes through -pc_sorbandit_state.

An unmodified PETSc program, here a Python script, loads the library with -dll_append, solves a
sequence of shifted Laplacians with CG + sorbandit, and reads omega, the rounds and the learner's
summary through the C interface (ctypes, pc.handle). Three runs in separate processes:

  whole   systems 0..N-1 in one process, no state file
  first   systems 0..k-1, writing the state file when its KSP is destroyed
  second  systems k..N-1, continuing from the state file

The second run must start where the first stopped (its rounds go on from k, the pulls are carried)
and the two together must make exactly the choices of the whole run. A fourth run with another
learner and the same file must fail naming the file, and leave the file as it was.

  sorbandit_state_petsc4py.py --lib libneurops.so --work DIR
"""
import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys

N, K = 30, 12


def run_child(lib, begin, end, state, learner):
    import petsc4py
    petsc4py.init([sys.argv[0], "-dll_append", lib])
    from petsc4py import PETSc

    neurops = ctypes.CDLL(lib)  # the library PETSc loaded: the same handle
    neurops.NeuropsPCSorBanditGetOmega.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)]
    neurops.NeuropsPCSorBanditGetRounds.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
    neurops.NeuropsPCSorBanditGetSummary.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                                     ctypes.POINTER(ctypes.c_size_t)]
    opts = PETSc.Options()
    for key, value in (("ksp_type", "cg"), ("ksp_rtol", "1e-8"), ("pc_type", "sorbandit"),
                       ("pc_sorbandit_learner", learner), ("pc_sorbandit_seed", "3")):
        opts[key] = value
    if state:
        opts["pc_sorbandit_state"] = state

    n = 12  # 2-D Dirichlet Laplacian on an n x n grid, shifted by c_t I
    A = PETSc.Mat().createAIJ([n * n, n * n], nnz=5, comm=PETSc.COMM_SELF)
    b, x = A.createVecs()
    ksp = PETSc.KSP().create(PETSc.COMM_SELF)
    ksp.setFromOptions()
    pc = ksp.getPC()
    record = {"omega": [], "rounds": [], "iterations": []}
    for t in range(begin, end):
        shift = 0.05 * ((7 * t) % 11)  # system t depends on t only
        A.zeroEntries()
        for i in range(n):
            for j in range(n):
                r = i * n + j
                A.setValue(r, r, 4.0 + shift)
                for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                    if 0 <= i + di < n and 0 <= j + dj < n:
                        A.setValue(r, (i + di) * n + j + dj, -1.0)
        A.assemble()
        b.setArray([1.0 + ((r * (t + 3)) % 17) / 17.0 for r in range(n * n)])
        ksp.setOperators(A)
        ksp.solve(b, x)
        assert ksp.getConvergedReason() > 0, f"system {t} did not converge"
        omega, rounds = ctypes.c_double(), ctypes.c_int64()
        assert neurops.NeuropsPCSorBanditGetOmega(pc.handle, ctypes.byref(omega)) == 0
        assert neurops.NeuropsPCSorBanditGetRounds(pc.handle, ctypes.byref(rounds)) == 0
        record["omega"].append(omega.value)
        record["rounds"].append(rounds.value)
        record["iterations"].append(ksp.getIterationNumber())
    needed = ctypes.c_size_t()
    assert neurops.NeuropsPCSorBanditGetSummary(pc.handle, None, 0, ctypes.byref(needed)) == 0
    buffer = ctypes.create_string_buffer(needed.value + 1)
    assert neurops.NeuropsPCSorBanditGetSummary(pc.handle, buffer, len(buffer), None) == 0
    record["summary"] = buffer.value.decode()
    ksp.destroy()  # destroys the PC: the state file is written now
    print(json.dumps(record))


def spawn(args, begin, end, state="", learner="tsallis", expect_failure=False):
    cmd = [sys.executable, os.path.abspath(__file__), "--lib", args.lib, "--work", args.work, "--child",
           f"{begin},{end},{state},{learner}"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if expect_failure:
        assert p.returncode != 0, f"{cmd} succeeded, expected a failure:\n{p.stdout}"
        return p.stdout + p.stderr
    assert p.returncode == 0, f"{cmd} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", required=True, help="libneurops.so")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        begin, end, state, learner = args.child.split(",")
        run_child(args.lib, int(begin), int(end), state, learner)
        return
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    state = os.path.join(args.work, "omega.h5")

    whole = spawn(args, 0, N)
    first = spawn(args, 0, K, state)
    assert os.path.exists(state), "the first process wrote no state file"
    second = spawn(args, K, N, state)
    # The second process starts from what the first learned: its rounds go on from K ...
    assert first["rounds"] == list(range(1, K + 1)), first["rounds"]
    assert second["rounds"] == list(range(K + 1, N + 1)), second["rounds"]
    # ... and together they choose exactly as one uninterrupted process (pulls, weights and generator
    # carried over), so the summaries (pulls and mean cost per arm) agree too.
    assert first["omega"] + second["omega"] == whole["omega"], (first["omega"], second["omega"], whole["omega"])
    assert first["iterations"] + second["iterations"] == whole["iterations"]
    assert second["summary"] == whole["summary"], (second["summary"], whole["summary"])
    # A state of another learner is refused, naming the file, and the file is kept as it was.
    with open(state, "rb") as f:
        saved = f.read()
    message = spawn(args, 0, 1, state, "chebcb", expect_failure=True)
    assert "omega.h5" in message and "learner is tsallis in the file but chebcb" in message, message
    with open(state, "rb") as f:
        assert f.read() == saved, "the refused run changed the state file"
    print(f"petsc4py: {N} solves split {K} + {N - K} over two processes chose as one process did "
          f"(rounds {second['rounds'][0]}..{second['rounds'][-1]} in the second); a chebcb run was refused")
    print(whole["summary"])


if __name__ == "__main__":
    main()
