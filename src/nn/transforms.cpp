#include "neurops/nn/transforms.hpp"

#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>

#include <tuple>
#include "neurops/core/fftw.hpp"

namespace neurops::nn {

namespace {

std::atomic<FftPlannerEffort> g_effort{FftPlannerEffort::estimate};
std::atomic<FftThreading> g_threading{FftThreading::openmp_split};

enum class Kind : int { r2c, c2r, c2c_forward, c2c_backward, redft10, redft01 };

struct PlanKey {
  Kind kind;
  bool single;
  bool in_place;
  bool aligned;
  int threads;
  unsigned effort;
  std::vector<std::int64_t> layout;  // (n, is, os) of every dim, -1, then of every loop
  bool operator<(const PlanKey& o) const {
    return std::tie(kind, single, in_place, aligned, threads, effort, layout) <
           std::tie(o.kind, o.single, o.in_place, o.aligned, o.threads, o.effort, o.layout);
  }
};

// FFTW's two precisions behind one interface.
template <class T>
struct Fftw;

template <>
struct Fftw<double> {
  using plan = fftw_plan;
  using complex = fftw_complex;
  static void plan_with_nthreads(int n) { fftw_plan_with_nthreads(n); }
  static void* malloc(std::size_t bytes) { return fftw_malloc(bytes); }
  static void free(void* p) { fftw_free(p); }
  static int alignment_of(const double* p) { return fftw_alignment_of(const_cast<double*>(p)); }
  static plan r2c(int r, const fftw_iodim64* d, int hr, const fftw_iodim64* h, double* in, complex* out, unsigned f) {
    return fftw_plan_guru64_dft_r2c(r, d, hr, h, in, out, f);
  }
  static plan c2r(int r, const fftw_iodim64* d, int hr, const fftw_iodim64* h, complex* in, double* out, unsigned f) {
    return fftw_plan_guru64_dft_c2r(r, d, hr, h, in, out, f);
  }
  static plan c2c(int r, const fftw_iodim64* d, int hr, const fftw_iodim64* h, complex* in, complex* out, int sign,
                  unsigned f) {
    return fftw_plan_guru64_dft(r, d, hr, h, in, out, sign, f);
  }
  static plan r2r(int r, const fftw_iodim64* d, int hr, const fftw_iodim64* h, double* in, double* out,
                  const fftw_r2r_kind* k, unsigned f) {
    return fftw_plan_guru64_r2r(r, d, hr, h, in, out, k, f);
  }
  static void exec_r2c(plan p, double* in, complex* out) { fftw_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
  static void exec_c2c(plan p, complex* in, complex* out) { fftw_execute_dft(p, in, out); }
  static void exec_r2r(plan p, double* in, double* out) { fftw_execute_r2r(p, in, out); }
  static void destroy(plan p) { fftw_destroy_plan(p); }
};

template <>
struct Fftw<float> {
  using plan = fftwf_plan;
  using complex = fftwf_complex;
  static void plan_with_nthreads(int n) { fftwf_plan_with_nthreads(n); }
  static void* malloc(std::size_t bytes) { return fftwf_malloc(bytes); }
  static void free(void* p) { fftwf_free(p); }
  static int alignment_of(const float* p) { return fftwf_alignment_of(const_cast<float*>(p)); }
  static plan r2c(int r, const fftwf_iodim64* d, int hr, const fftwf_iodim64* h, float* in, complex* out, unsigned f) {
    return fftwf_plan_guru64_dft_r2c(r, d, hr, h, in, out, f);
  }
  static plan c2r(int r, const fftwf_iodim64* d, int hr, const fftwf_iodim64* h, complex* in, float* out, unsigned f) {
    return fftwf_plan_guru64_dft_c2r(r, d, hr, h, in, out, f);
  }
  static plan c2c(int r, const fftwf_iodim64* d, int hr, const fftwf_iodim64* h, complex* in, complex* out, int sign,
                  unsigned f) {
    return fftwf_plan_guru64_dft(r, d, hr, h, in, out, sign, f);
  }
  static plan r2r(int r, const fftwf_iodim64* d, int hr, const fftwf_iodim64* h, float* in, float* out,
                  const fftwf_r2r_kind* k, unsigned f) {
    return fftwf_plan_guru64_r2r(r, d, hr, h, in, out, k, f);
  }
  static void exec_r2c(plan p, float* in, complex* out) { fftwf_execute_dft_r2c(p, in, out); }
  static void exec_c2r(plan p, complex* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
  static void exec_c2c(plan p, complex* in, complex* out) { fftwf_execute_dft(p, in, out); }
  static void exec_r2r(plan p, float* in, float* out) { fftwf_execute_r2r(p, in, out); }
  static void destroy(plan p) { fftwf_destroy_plan(p); }
};

/// Every plan of the process, keyed by layout; owns them until exit.
class PlanCache {
 public:
  static PlanCache& instance() {
    static PlanCache cache;
    return cache;
  }
  ~PlanCache() {
    for (auto& [key, plan] : plans_) {
      if (key.single)
        Fftw<float>::destroy(static_cast<fftwf_plan>(plan));
      else
        Fftw<double>::destroy(static_cast<fftw_plan>(plan));
    }
  }
  /// The plan for `key`, created by make() (under the planner lock) the first time.
  template <class Make>
  void* get(const PlanKey& key, Make&& make) {
    // The library-wide planner lock: pde/ plans its own transforms under the same one.
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second;
    fftw_init_threads_once();
    void* plan = make();
    plans_.emplace(key, plan);
    return plan;
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    return plans_.size();
  }

 private:
  std::map<PlanKey, void*> plans_;
};

template <class T>
using IoDim = std::conditional_t<std::is_same_v<T, double>, fftw_iodim64, fftwf_iodim64>;

template <class T>
std::vector<IoDim<T>> to_iodims(const std::vector<FftDim>& dims) {
  std::vector<IoDim<T>> out;
  for (const auto& d : dims) out.push_back({d.n, static_cast<std::ptrdiff_t>(d.is), static_cast<std::ptrdiff_t>(d.os)});
  return out;
}

/// Elements an array must hold for the given strides (input side or output side).
std::int64_t extent(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, bool input) {
  std::int64_t last = 0;
  for (const auto* v : {&dims, &loops})
    for (const auto& d : *v) last += (d.n - 1) * std::abs(input ? d.is : d.os);
  return last + 1;
}

/// Plans and runs one transform kind; In and Out are T or std::complex<T>.
template <class T, class In, class Out>
struct Runner {
  Kind kind;
  const std::vector<FftDim>& dims;
  const std::vector<FftDim>& loops;

  void* plan_for(const std::vector<FftDim>& chunk_loops, bool in_place, bool aligned, int threads) const {
    PlanKey key{
        kind,     std::is_same_v<T, float>,
        in_place, aligned,
        threads,  g_effort.load() == FftPlannerEffort::measure ? unsigned(FFTW_MEASURE) : unsigned(FFTW_ESTIMATE),
        {}};
    for (const auto& d : dims) key.layout.insert(key.layout.end(), {d.n, d.is, d.os});
    key.layout.push_back(-1);
    for (const auto& d : chunk_loops) key.layout.insert(key.layout.end(), {d.n, d.is, d.os});
    return PlanCache::instance().get(key, [&]() -> void* {
      using F = Fftw<T>;
      const std::size_t in_bytes = sizeof(In) * static_cast<std::size_t>(extent(dims, chunk_loops, true));
      const std::size_t out_bytes = sizeof(Out) * static_cast<std::size_t>(extent(dims, chunk_loops, false));
      // Scratch arrays for planning (FFTW_MEASURE overwrites them); the plan is executed on the
      // caller's arrays through the new-array interface.
      void* in = F::malloc(in_place ? std::max(in_bytes, out_bytes) : in_bytes);
      void* out = in_place ? in : F::malloc(out_bytes);
      unsigned flags = key.effort | (aligned ? 0u : unsigned(FFTW_UNALIGNED));
      if (kind == Kind::c2r) flags |= FFTW_DESTROY_INPUT;
      const auto d = to_iodims<T>(dims);
      const auto h = to_iodims<T>(chunk_loops);
      const int r = static_cast<int>(d.size()), hr = static_cast<int>(h.size());
      F::plan_with_nthreads(threads);
      typename F::plan p = nullptr;
      using C = typename F::complex;
      switch (kind) {
        case Kind::r2c:
          p = F::r2c(r, d.data(), hr, h.data(), static_cast<T*>(in), static_cast<C*>(out), flags);
          break;
        case Kind::c2r:
          p = F::c2r(r, d.data(), hr, h.data(), static_cast<C*>(in), static_cast<T*>(out), flags);
          break;
        case Kind::c2c_forward:
        case Kind::c2c_backward:
          p = F::c2c(r, d.data(), hr, h.data(), static_cast<C*>(in), static_cast<C*>(out),
                     kind == Kind::c2c_forward ? FFTW_FORWARD : FFTW_BACKWARD, flags);
          break;
        case Kind::redft10:
        case Kind::redft01: {
          using R2R = std::conditional_t<std::is_same_v<T, double>, fftw_r2r_kind, fftwf_r2r_kind>;
          std::vector<R2R> kinds(dims.size(), kind == Kind::redft10 ? FFTW_REDFT10 : FFTW_REDFT01);
          p = F::r2r(r, d.data(), hr, h.data(), static_cast<T*>(in), static_cast<T*>(out), kinds.data(), flags);
          break;
        }
      }
      F::plan_with_nthreads(1);
      if (out != in) F::free(out);
      F::free(in);
      NEUROPS_CHECK(p,
                    "FFTW could not plan a transform (kind " << int(kind) << ", rank " << r << ", loops " << hr << ")");
      return static_cast<void*>(p);
    });
  }

  static const T* real_ptr(const void* p) { return static_cast<const T*>(p); }

  void execute_one(const std::vector<FftDim>& chunk_loops, In* in, Out* out, int threads) const {
    using F = Fftw<T>;
    const bool aligned = F::alignment_of(real_ptr(in)) == 0 && F::alignment_of(real_ptr(out)) == 0;
    auto plan = static_cast<typename F::plan>(
        plan_for(chunk_loops, static_cast<void*>(in) == static_cast<void*>(out), aligned, threads));
    using C = typename F::complex;
    if constexpr (std::is_same_v<In, T> && std::is_same_v<Out, T>)
      F::exec_r2r(plan, in, out);
    else if constexpr (std::is_same_v<In, T>)
      F::exec_r2c(plan, in, reinterpret_cast<C*>(out));
    else if constexpr (std::is_same_v<Out, T>)
      F::exec_c2r(plan, reinterpret_cast<C*>(in), out);
    else
      F::exec_c2c(plan, reinterpret_cast<C*>(in), reinterpret_cast<C*>(out));
  }

  void run(In* in, Out* out) const {
    const int max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    // Small transforms run on the calling thread: the fork/join would cost more than it saves.
    const std::int64_t elements = extent(dims, loops, true);
    if (loops.empty() || max_threads == 1 || loops[0].n < 2 || elements < (1 << 15)) {
      execute_one(loops, in, out, 1);
      return;
    }
    if (g_threading.load() == FftThreading::fftw_threads) {
      execute_one(loops, in, out, max_threads);
      return;
    }
    const int parts = std::min<int>(max_threads, loops[0].n);
#pragma omp parallel num_threads(parts)
    {
      const int t = omp_get_thread_num();
      const std::int64_t begin = std::int64_t(loops[0].n) * t / parts;
      const std::int64_t end = std::int64_t(loops[0].n) * (t + 1) / parts;
      std::vector<FftDim> chunk = loops;
      chunk[0].n = static_cast<int>(end - begin);
      execute_one(chunk, in + begin * loops[0].is, out + begin * loops[0].os, 1);
    }
  }
};

std::vector<FftDim> contiguous_dims(const std::vector<index_t>& n, index_t last_in, index_t last_out) {
  // Row-major strides of the grid, with the last axis stored with extent last_in (input) and
  // last_out (output) elements.
  std::vector<FftDim> dims(n.size());
  std::int64_t s_in = 1, s_out = 1;
  for (int a = static_cast<int>(n.size()) - 1; a >= 0; --a) {
    dims[a] = {static_cast<int>(n[a]), s_in, s_out};
    const bool last = a == static_cast<int>(n.size()) - 1;
    s_in *= last ? last_in : n[a];
    s_out *= last ? last_out : n[a];
  }
  return dims;
}

}  // namespace

void set_fft_planner_effort(FftPlannerEffort effort) { g_effort = effort; }
FftPlannerEffort fft_planner_effort() { return g_effort.load(); }
void set_fft_threading(FftThreading threading) { g_threading = threading; }
FftThreading fft_threading() { return g_threading.load(); }
std::size_t fft_plan_count() { return PlanCache::instance().size(); }

template <class T>
void FftPlan<T>::execute(void* in, void* out) const {
  NEUROPS_ASSERT(plan_, "FftPlan: executing an empty plan");
  using F = Fftw<T>;
  using C = typename F::complex;
  auto p = static_cast<typename F::plan>(plan_);
  switch (static_cast<Kind>(kind_)) {
    case Kind::r2c:
      F::exec_r2c(p, static_cast<T*>(in), static_cast<C*>(out));
      break;
    case Kind::c2r:
      F::exec_c2r(p, static_cast<C*>(in), static_cast<T*>(out));
      break;
    case Kind::c2c_forward:
    case Kind::c2c_backward:
      F::exec_c2c(p, static_cast<C*>(in), static_cast<C*>(out));
      break;
    case Kind::redft10:
    case Kind::redft01:
      F::exec_r2r(p, static_cast<T*>(in), static_cast<T*>(out));
      break;
  }
}

template <class T>
FftPlan<T> Fft<T>::plan_r2c(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, bool aligned) {
  return FftPlan<T>(Runner<T, T, Complex>{Kind::r2c, dims, loops}.plan_for(loops, false, aligned, 1), int(Kind::r2c));
}
template <class T>
FftPlan<T> Fft<T>::plan_c2r(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, bool aligned) {
  return FftPlan<T>(Runner<T, Complex, T>{Kind::c2r, dims, loops}.plan_for(loops, false, aligned, 1), int(Kind::c2r));
}
template <class T>
FftPlan<T> Fft<T>::plan_c2c(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, int sign, bool in_place,
                            bool aligned) {
  const Kind kind = sign < 0 ? Kind::c2c_forward : Kind::c2c_backward;
  return FftPlan<T>(Runner<T, Complex, Complex>{kind, dims, loops}.plan_for(loops, in_place, aligned, 1), int(kind));
}
template <class T>
bool Fft<T>::simd_aligned(const void* p) {
  return Fftw<T>::alignment_of(static_cast<const T*>(p)) == 0;
}

template <class T>
void Fft<T>::r2c(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, const T* in, Complex* out) {
  Runner<T, T, Complex>{Kind::r2c, dims, loops}.run(const_cast<T*>(in), out);
}
template <class T>
void Fft<T>::c2r(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, Complex* in, T* out) {
  Runner<T, Complex, T>{Kind::c2r, dims, loops}.run(in, out);
}
template <class T>
void Fft<T>::c2c(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, Complex* in, Complex* out,
                 int sign) {
  Runner<T, Complex, Complex>{sign < 0 ? Kind::c2c_forward : Kind::c2c_backward, dims, loops}.run(in, out);
}
template <class T>
void Fft<T>::dct(const std::vector<FftDim>& dims, const std::vector<FftDim>& loops, const T* in, T* out, bool inverse) {
  Runner<T, T, T>{inverse ? Kind::redft01 : Kind::redft10, dims, loops}.run(const_cast<T*>(in), out);
}

template <class T>
void Fft<T>::rfftn(const std::vector<index_t>& n, index_t howmany, const T* in, Complex* out) {
  const index_t h = n.back() / 2 + 1;
  const auto dims = contiguous_dims(n, n.back(), h);
  index_t grid = 1, spec = h;
  for (std::size_t a = 0; a < n.size(); ++a) grid *= n[a];
  for (std::size_t a = 0; a + 1 < n.size(); ++a) spec *= n[a];
  r2c(dims, {{static_cast<int>(howmany), grid, spec}}, in, out);
}

template <class T>
void Fft<T>::irfftn_unnormalised(const std::vector<index_t>& n, index_t howmany, Complex* in, T* out) {
  const index_t h = n.back() / 2 + 1;
  const auto dims = contiguous_dims(n, h, n.back());
  index_t grid = 1, spec = h;
  for (std::size_t a = 0; a < n.size(); ++a) grid *= n[a];
  for (std::size_t a = 0; a + 1 < n.size(); ++a) spec *= n[a];
  c2r(dims, {{static_cast<int>(howmany), spec, grid}}, in, out);
}

// ---- orthonormal DCT ----------------------------------------------------------------------------

namespace {

std::vector<index_t> trailing(const Shape& s, int axes, const char* what) {
  NEUROPS_CHECK(axes >= 1 && axes <= 3, what << ": transform over " << axes << " axes; 1, 2 or 3 supported");
  NEUROPS_CHECK(s.rank() >= axes + 1, what << ": input of shape " << s << " needs rank >= " << axes + 1
                                           << " (leading batch axis and " << axes << " transformed axes)");
  std::vector<index_t> n;
  for (int a = s.rank() - axes; a < s.rank(); ++a) {
    NEUROPS_CHECK(s[a] >= 1, what << ": empty axis in input of shape " << s);
    n.push_back(s[a]);
  }
  return n;
}

/// Per-grid-point factor of the orthonormal scaling: prod over axes of f(k_a, n_a).
template <class T, class F>
std::vector<T> separable_factors(const std::vector<index_t>& n, F&& f) {
  index_t total = 1;
  for (auto e : n) total *= e;
  std::vector<T> out(static_cast<std::size_t>(total), T(1));
  index_t stride = total;
  for (std::size_t a = 0; a < n.size(); ++a) {
    stride /= n[a];
    for (index_t i = 0; i < total; ++i)
      out[static_cast<std::size_t>(i)] *= static_cast<T>(f((i / stride) % n[a], n[a]));
  }
  return out;
}

}  // namespace

template <class T>
Tensor<T> dct_ortho(const Tensor<T>& x, int axes, bool inverse) {
  const auto n = trailing(x.shape(), axes, inverse ? "DCT-III" : "DCT-II");
  const auto dims = contiguous_dims(n, n.back(), n.back());
  const index_t grid = x.shape().tail_numel(x.rank() - axes);
  const index_t howmany = x.numel() / grid;
  const std::vector<FftDim> loops{{static_cast<int>(howmany), grid, grid}};
  Tensor<T> y = Tensor<T>::uninitialized(x.shape());
  if (!inverse) {
    // REDFT10 gives 2*sum x cos(...); orthonormal DCT-II scales entry 0 by 1/sqrt(4n), the others by 1/sqrt(2n).
    const auto f = separable_factors<T>(n, [](index_t k, index_t m) {
      return k == 0 ? 1.0 / std::sqrt(4.0 * double(m)) : 1.0 / std::sqrt(2.0 * double(m));
    });
    Fft<T>::dct(dims, loops, x.data(), y.data(), false);
#pragma omp parallel for if (howmany > 1 && x.numel() > (1 << 15))
    for (index_t b = 0; b < howmany; ++b)
      for (index_t i = 0; i < grid; ++i) y[b * grid + i] *= f[static_cast<std::size_t>(i)];
  } else {
    // REDFT01 gives X_0 + 2 sum X_k cos(...); the orthonormal DCT-III pre-scales entry 0 by 1/sqrt(n)
    // and the others by 1/sqrt(2n).
    const auto f = separable_factors<T>(
        n, [](index_t k, index_t m) { return k == 0 ? 1.0 / std::sqrt(double(m)) : 1.0 / std::sqrt(2.0 * double(m)); });
    Tensor<T> scaled = Tensor<T>::uninitialized(x.shape());
#pragma omp parallel for if (howmany > 1 && x.numel() > (1 << 15))
    for (index_t b = 0; b < howmany; ++b)
      for (index_t i = 0; i < grid; ++i) scaled[b * grid + i] = x[b * grid + i] * f[static_cast<std::size_t>(i)];
    Fft<T>::dct(dims, loops, scaled.data(), y.data(), true);
  }
  return y;
}

template <class T>
Dct<T>::Dct(int axes, bool inverse) : axes_(axes), inverse_(inverse) {
  NEUROPS_CHECK(axes >= 1 && axes <= 3, type_name() << ": transform over " << axes << " axes; 1, 2 or 3 supported");
}

template <class T>
Tensor<T> Dct<T>::forward(const Tensor<T>& x) {
  if (this->training()) input_shape_ = x.shape();
  return dct_ortho(x, axes_, inverse_);
}

template <class T>
Tensor<T> Dct<T>::backward(const Tensor<T>& dy) {
  this->require_cache(input_shape_.rank() > 0);
  NEUROPS_CHECK(dy.shape() == input_shape_,
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << input_shape_);
  return dct_ortho(dy, axes_, !inverse_);  // orthonormal: the adjoint is the inverse
}

// ---- rFFT / irFFT layers ------------------------------------------------------------------------

template <class T>
Rfft<T>::Rfft(int axes) : axes_(axes) {
  NEUROPS_CHECK(axes >= 1 && axes <= 3, "Rfft: transform over " << axes << " axes; 1, 2 or 3 supported");
}

template <class T>
Tensor<T> Rfft<T>::forward(const Tensor<T>& x) {
  const auto n = trailing(x.shape(), axes_, "Rfft");
  NEUROPS_CHECK(x.rank() + 1 <= kMaxRank, "Rfft: input of shape " << x.shape() << " has no room for the (re, im) axis");
  std::vector<index_t> out_dims = x.shape().dims();
  out_dims.back() = n.back() / 2 + 1;
  out_dims.push_back(2);
  Tensor<T> y = Tensor<T>::uninitialized(Shape(out_dims));
  const index_t howmany = x.numel() / x.shape().tail_numel(x.rank() - axes_);
  Fft<T>::rfftn(n, howmany, x.data(), reinterpret_cast<std::complex<T>*>(y.data()));
  if (this->training()) input_shape_ = x.shape();
  return y;
}

template <class T>
Tensor<T> Rfft<T>::backward(const Tensor<T>& dy) {
  this->require_cache(input_shape_.rank() > 0);
  std::vector<index_t> expect = input_shape_.dims();
  const index_t n_last = expect.back();
  expect.back() = n_last / 2 + 1;
  expect.push_back(2);
  NEUROPS_CHECK(dy.shape() == Shape(expect),
                "Rfft: output gradient has shape " << dy.shape() << ", expected " << Shape(expect));
  // Adjoint of the half-spectrum r2c: c2r of the gradient with the entries that stand for two
  // conjugate modes halved (c2r counts them twice).
  Tensor<T> g = dy;
  const index_t h = expect[expect.size() - 2];
  for (index_t row = 0; row < g.numel() / (2 * h); ++row)
    for (index_t k = 0; k < h; ++k)
      if (detail::hermitian_multiplicity(k, n_last) == 2) {
        g[(row * h + k) * 2] *= T(0.5);
        g[(row * h + k) * 2 + 1] *= T(0.5);
      }
  Tensor<T> dx = Tensor<T>::uninitialized(input_shape_);
  const auto n = trailing(input_shape_, axes_, "Rfft");
  Fft<T>::irfftn_unnormalised(n, input_shape_.numel() / input_shape_.tail_numel(input_shape_.rank() - axes_),
                              reinterpret_cast<std::complex<T>*>(g.data()), dx.data());
  return dx;
}

template <class T>
Irfft<T>::Irfft(int axes, index_t last_size) : axes_(axes), last_size_(last_size) {
  NEUROPS_CHECK(axes >= 1 && axes <= 3, "Irfft: transform over " << axes << " axes; 1, 2 or 3 supported");
}

template <class T>
Tensor<T> Irfft<T>::forward(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() >= axes_ + 2 && x.shape()[x.rank() - 1] == 2,
                "Irfft: input of shape " << x.shape() << " must be (batch..., spectrum of " << axes_
                                         << " axes, 2) with a trailing (re, im) axis");
  const index_t h = x.shape()[x.rank() - 2];
  const index_t n_last = last_size_ > 0 ? last_size_ : 2 * (h - 1);
  NEUROPS_CHECK(n_last / 2 + 1 == h && n_last >= 1, "Irfft: output length "
                                                        << n_last << " along the last axis needs " << n_last / 2 + 1
                                                        << " half-spectrum entries, input has " << h);
  std::vector<index_t> out_dims = x.shape().dims();
  out_dims.pop_back();
  out_dims.back() = n_last;
  const Shape out_shape(out_dims);
  std::vector<index_t> n(out_dims.end() - axes_, out_dims.end());
  Tensor<T> work = x;  // c2r destroys its input
  Tensor<T> y = Tensor<T>::uninitialized(out_shape);
  const index_t grid = out_shape.tail_numel(out_shape.rank() - axes_);
  Fft<T>::irfftn_unnormalised(n, y.numel() / grid, reinterpret_cast<std::complex<T>*>(work.data()), y.data());
  y.vec() *= T(1) / static_cast<T>(grid);
  if (this->training()) input_shape_ = x.shape();
  return y;
}

template <class T>
Tensor<T> Irfft<T>::backward(const Tensor<T>& dy) {
  this->require_cache(input_shape_.rank() > 0);
  const index_t h = input_shape_[input_shape_.rank() - 2];
  NEUROPS_CHECK(
      dy.rank() == input_shape_.rank() - 1 && dy.shape()[dy.rank() - 1] / 2 + 1 == h,
      "Irfft: output gradient has shape " << dy.shape() << ", which does not match the input " << input_shape_);
  const auto n = trailing(dy.shape(), axes_, "Irfft");
  const index_t grid = dy.shape().tail_numel(dy.rank() - axes_);
  Tensor<T> dx = Tensor<T>::uninitialized(input_shape_);
  Fft<T>::rfftn(n, dy.numel() / grid, dy.data(), reinterpret_cast<std::complex<T>*>(dx.data()));
  // y = c2r(x)/N counts each non-self-conjugate entry twice.
  const T inv = T(1) / static_cast<T>(grid);
  for (index_t row = 0; row < dx.numel() / (2 * h); ++row)
    for (index_t k = 0; k < h; ++k) {
      const T s = inv * static_cast<T>(detail::hermitian_multiplicity(k, n.back()));
      dx[(row * h + k) * 2] *= s;
      dx[(row * h + k) * 2 + 1] *= s;
    }
  return dx;
}

template class FftPlan<float>;
template class FftPlan<double>;
template struct Fft<float>;
template struct Fft<double>;
template Tensor<float> dct_ortho(const Tensor<float>&, int, bool);
template Tensor<double> dct_ortho(const Tensor<double>&, int, bool);
template class Dct<float>;
template class Dct<double>;
template class Rfft<float>;
template class Rfft<double>;
template class Irfft<float>;
template class Irfft<double>;

}  // namespace neurops::nn
