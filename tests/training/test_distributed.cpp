#define BOOST_TEST_MODULE neurops_training_mpi
#include <mpi.h>

#include <boost/test/unit_test.hpp>

#include "neurops/nn/data.hpp"
#include "neurops/nn/distributed.hpp"

using namespace neurops;
using namespace neurops::nn;

namespace {
struct MpiFixture {
  MpiFixture() { MPI_Init(nullptr, nullptr); }
  ~MpiFixture() { MPI_Finalize(); }
};

// y = W x per sample, (N, in) -> (N, out): the smallest module with a parameter.
class Dense : public ModuleImpl<Dense, double> {
 public:
  Dense(index_t in, index_t out, Rng& rng) : w_(Tensor<double>::randn({out, in}, rng)) {}
  Tensor<double> forward(const Tensor<double>& x) override {
    x_ = x;
    Tensor<double> y({x.size(0), w_.value.size(0)});
    y.matrix() = x.matrix() * w_.value.matrix().transpose();
    return y;
  }
  Tensor<double> backward(const Tensor<double>& dy) override {
    w_.grad.matrix() += dy.matrix().transpose() * x_.matrix();
    Tensor<double> dx(x_.shape());
    dx.matrix() = dy.matrix() * w_.value.matrix();
    return dx;
  }
  std::string type_name() const override { return "Dense"; }
  void for_each_parameter(const ParameterFn& fn) override { fn("weight", w_); }

 private:
  Parameter<double> w_;
  Tensor<double> x_;
};

// Gradient of the mean squared error over rows [b, e) of (x, t).
void local_gradient(Dense& m, const Tensor<double>& x, const Tensor<double>& t, index_t b, index_t e) {
  m.zero_grad();
  const Tensor<double> xs(x.slice(b, e)), ts(t.slice(b, e));
  Tensor<double> y = m.forward(xs);
  y.vec() -= ts.vec();
  y.vec() *= 2.0 / double(e - b);
  m.backward(y);
}
}  // namespace
BOOST_TEST_GLOBAL_FIXTURE(MpiFixture);

BOOST_AUTO_TEST_CASE(data_parallel_gradient_equals_full_batch_gradient) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  BOOST_TEST_REQUIRE(size == 2);
  Rng rng(7);
  Dense model(5, 3, rng);
  const auto x = Tensor<double>::randn({11, 5}, rng);  // 11 samples: unequal shares 6 + 5
  const auto t = Tensor<double>::randn({11, 3}, rng);
  Rng other(100 + rank);  // ranks start different; broadcast makes them equal
  for (auto& p : model.named_parameters()) p.param->value = Tensor<double>::randn(p.param->value.shape(), other);
  broadcast_parameters(model, MPI_COMM_WORLD);

  local_gradient(model, x, t, 0, 11);
  const Tensor<double> full = model.parameter("weight").grad;

  const auto [b, e] = rank_share(11, rank, size);
  local_gradient(model, x, t, b, e);
  allreduce_gradients(model, MPI_COMM_WORLD, e - b, 11);
  const Tensor<double>& g = model.parameter("weight").grad;
  for (index_t i = 0; i < g.numel(); ++i) BOOST_TEST(g[i] == full[i], boost::test_tools::tolerance(1e-12));
  BOOST_TEST(allreduce_sum(double(e - b), MPI_COMM_WORLD) == 11.0);
}
