// dct_dump IN.h5 OUT.h5 — applies the orthonormal DCT layers (nn::Dct, FFTW REDFT10/REDFT01) to the
// dataset /x of IN.h5 and writes /dct_<axes> and /idct_<axes> for 1, 2 and 3 trailing axes, in
// double and single precision (/..._f32), for tests/spectral/check_dct_scipy.py.
#include <cstdio>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/transforms.hpp"

using namespace neurops;

template <class T>
void dump(const Tensor<T>& x, io::H5File& out, const std::string& suffix) {
  for (int axes = 1; axes <= 3; ++axes) {
    nn::Dct<T> forward(axes, false), inverse(axes, true);
    out.write("/dct_" + std::to_string(axes) + suffix, forward.forward(x));
    out.write("/idct_" + std::to_string(axes) + suffix, inverse.forward(x));
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: dct_dump IN.h5 OUT.h5\n");
    return 2;
  }
  try {
    const auto in = io::H5File::open(argv[1]);
    auto out = io::H5File::create(argv[2]);
    dump(in.read<double>("/x"), out, "");
    dump(in.read<float>("/x"), out, "_f32");
    out.commit();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dct_dump: error: %s\n", e.what());
    return 1;
  }
}
