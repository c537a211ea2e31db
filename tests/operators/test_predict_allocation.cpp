#define BOOST_TEST_MODULE neurops_predict_allocation
// Repeated predictions on same-shaped inputs take no buffer from the system allocator once warmed up.
//
// This executable counts every allocation of the process: it replaces malloc and its relatives
// (operator new, FFTW's and the OpenMP runtime's allocations all end there) with counting wrappers
// around glibc's own entry points, or, in a build with AddressSanitizer (which owns malloc), installs
// the sanitizer's allocation hooks. Each case loads a model saved with save_model through load_model,
// predicts once (warm-up: buffers, FFTW plans, thread pools), then counts the allocations of ten
// more predictions on a same-shaped field.
//
// A buffer is any request of kSmallRequest bytes or more (tensors, scratch vectors, FFTW arrays):
// none may reach the system in the steady state. Smaller requests (the index vectors and strings of
// shape bookkeeping, and the 1.5 KB team that libgomp allocates and frees for every parallel region
// that runs on one thread) are served from the allocator's per-thread caches without system calls
// or page faults; they are counted and reported with --log_level=message.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <new>

#include "neurops/core/petsc.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "neurops/operators/deeponet.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/mgno.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/operators/sfno.hpp"

namespace {
constexpr std::size_t kSmallRequest = 4096;  // one page
std::atomic<bool> counting{false};
std::atomic<long> allocations{0}, buffers{0};

// A breakpoint here (gdb: break neurops_counted_allocation) shows who allocates.
extern "C" __attribute__((noinline)) void neurops_counted_allocation() { asm volatile(""); }

inline void count(std::size_t bytes) {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (bytes >= kSmallRequest) {
      buffers.fetch_add(1, std::memory_order_relaxed);
      neurops_counted_allocation();
    }
  }
}
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#else  // GCC ships no declaration of the hook; its libasan (LLVM's compiler-rt) exports it
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                         void (*free_hook)(const volatile void*));
#endif
namespace {
void on_malloc(const volatile void*, std::size_t bytes) { count(bytes); }
void on_free(const volatile void*) {}
const int hooks_installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace
#else
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  count(n);
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  count(n * size);
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  count(n);
  return __libc_realloc(p, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
  count(n);
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  count(n);
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** p, std::size_t alignment, std::size_t n) {
  count(n);
  *p = __libc_memalign(alignment, n);
  return *p || n == 0 ? 0 : ENOMEM;
}
void free(void* p) { __libc_free(p); }
}
#endif

using namespace neurops;
using namespace neurops::operators;
namespace fs = std::filesystem;

namespace {

struct PetscFixture {
  PetscSession session;
};

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path("predict_allocation_scratch") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir / (name + ".h5");
}

/// Allocations made by `calls` calls of f after one warm-up call.
struct Counts {
  long buffers, small;
};
Counts steady_state_allocations(const std::string& what, const std::function<void()>& f, int calls = 10) {
  f();
  allocations = 0;
  buffers = 0;
  counting = true;
  for (int i = 0; i < calls; ++i) f();
  counting = false;
  const Counts c{buffers.load(), allocations.load() - buffers.load()};
  BOOST_TEST_MESSAGE(what << ": " << calls << " calls after warm-up: " << c.buffers << " buffer and " << c.small
                          << " small allocations");
  return c;
}

/// Saves `model` with Gaussian normalizers fitted on random fields of `shape`, loads it back.
template <class M>
TrainedModel<float> saved_and_loaded(M& model, const Shape& shape, const std::string& name) {
  Rng rng(7);
  const auto fields = Tensor<float>::randn(shape.with(0, 4), rng);
  const auto in = nn::Normalizer<float>::unit_gaussian(fields.view(), true);
  const auto out = nn::Normalizer<float>::unit_gaussian(fields.view(), false);
  const fs::path path = scratch(name);
  save_model(path, model, in, out);
  return load_model<float>(path);
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

BOOST_AUTO_TEST_CASE(the_counting_allocator_sees_buffers_and_small_allocations) {
  // Guards the other cases: a count of zero must mean no allocation, not a blind counter.
  const Counts fresh = steady_state_allocations("vectors", [] {
    std::vector<float> big(100000);
    std::vector<int> small(3);
    asm volatile("" : : "r"(big.data()), "r"(small.data()) : "memory");  // the allocations may not be elided
  });
  BOOST_TEST(fresh.buffers == 10);
  BOOST_TEST(fresh.small == 10);
}

BOOST_AUTO_TEST_CASE(repeated_fno_predictions_take_no_buffer_from_the_system) {
  FnoConfig c;
  c.in_channels = 1;
  c.width = 8;
  c.modes = {4};
  c.layers = 2;
  c.projection_channels = 16;
  Fno<float> fno(c);
  auto model = saved_and_loaded(fno, {1, 1, 16, 16}, "fno");
  Rng rng(1);
  const auto x = Tensor<float>::randn({1, 1, 16, 16}, rng);
  BOOST_TEST(steady_state_allocations(model.type(), [&] { (void)model.predict(x); }).buffers == 0);
}

BOOST_AUTO_TEST_CASE(repeated_mgno_predictions_take_no_buffer_from_the_system) {
  MgnoConfig c;
  c.width = 6;
  c.layers = 2;
  Mgno<float> mgno(c);
  auto model = saved_and_loaded(mgno, {1, 1, 16, 16}, "mgno");
  Rng rng(2);
  const auto x = Tensor<float>::randn({1, 1, 16, 16}, rng);
  BOOST_TEST(steady_state_allocations(model.type(), [&] { (void)model.predict(x); }).buffers == 0);
}

BOOST_AUTO_TEST_CASE(repeated_deeponet_predictions_on_one_function_take_no_buffer_from_the_system) {
  DeepOnetConfig c;
  c.branch_layers = {20, 16, 16};
  c.trunk_layers = {1, 16, 16};
  DeepOnet<float> deeponet(c);
  Rng rng(3);
  const fs::path path = scratch("deeponet");
  save_model(path, deeponet);
  auto model = load_model<float>(path);
  const auto u = Tensor<float>::randn({1, 20}, rng);
  const auto points = Tensor<float>::randn({1, 50, 1}, rng);
  BOOST_TEST(steady_state_allocations(model.type(), [&] { (void)model.predict({u, points}); }).buffers == 0);
}

BOOST_AUTO_TEST_CASE(repeated_sfno_predictions_take_no_buffer_from_the_system) {
  SfnoConfig c;
  c.modes_x = c.modes_y = 3;
  c.modes_t = 2;
  c.width = 8;
  c.layers = 2;
  c.input_steps = c.latent_steps = 4;
  c.output_steps = 4;
  Sfno<float> sfno(c);
  auto model = saved_and_loaded(sfno, {1, 4, 8, 8}, "sfno");
  Rng rng(4);
  const auto x = Tensor<float>::randn({1, 4, 8, 8}, rng);
  BOOST_TEST(steady_state_allocations(model.type(), [&] { (void)model.predict(x); }).buffers == 0);
}

BOOST_AUTO_TEST_CASE(repeated_dcdm_network_applications_take_no_buffer_from_the_system) {
  // The DCDM network is not a load_model type: it is applied through its own loader.
  DcdmNetConfig c = DcdmNetConfig::variant(64);
  DcdmNet<float> net(c);
  const fs::path path = scratch("dcdm");
  nn::CheckpointContents<float> contents;
  contents.model = &net;
  nn::save_checkpoint(path, contents);
  auto loaded = load_dcdm_net<float>(path.string());
  loaded.eval();
  Rng rng(5);
  const auto b = Tensor<float>::randn({1, 1, 8, 8, 8}, rng);
  BOOST_TEST(steady_state_allocations("DCDM network", [&] { (void)loaded.forward(b); }).buffers == 0);
}
