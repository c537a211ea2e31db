#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of neurops from Debian 12 packages.
# Idempotent: packages already present are skipped, so it is cheap to call before every build.
# Run as root (or with sudo available). Set NEUROPS_SKIP_PEERS=1 to skip the benchmark peers
# (PyTorch, h5py), which the library itself never needs.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libeigen3-dev                       # Eigen3::Eigen
  libfftw3-dev                        # FFTW double + single precision, with the OpenMP variants
  petsc-dev                           # PETSc (links the OpenMPI HDF5 flavour, ships hypre/GAMG)
  libpetsc3.18-dev-examples           # PETSc's tutorials: an unmodified one is a test of the sorbandit PC
  libhdf5-openmpi-dev                 # the HDF5 flavour PETSc links against
  libopenmpi-dev openmpi-bin          # MPI
  libboost-test-dev                   # Boost.Test
  libpng-dev                          # PNG previews
  clang-format                        # the CI format check (scripts/check-format.sh)
  doxygen                             # the API reference (`docs` target and its CTest)
)
if [[ "${NEUROPS_SKIP_PEERS:-0}" != 1 ]]; then
  packages+=(python3 python3-numpy python3-h5py python3-torch)   # benchmark peers and file checks
  packages+=(python3-scipy)   # scipy.fft.dctn: the reference the DCT layers are checked against
  packages+=(python3-petsc4py)   # a petsc4py script continues a sorbandit learner across processes
  packages+=(paraview python3-paraview)   # pvbatch opens the XDMF sidecars with ParaView's readers
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
