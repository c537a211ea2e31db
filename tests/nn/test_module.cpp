// Tests of the Module base through real layers: names, counts, gradients, modes, freezing, copies,
// parameter files and error paths.
#define BOOST_TEST_MODULE neurops_nn_layers
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/activation.hpp"
#include "neurops/nn/conv.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/nn/linear.hpp"

using namespace neurops;
using namespace neurops::nn;
namespace fs = std::filesystem;

namespace {
// Sequential{ Residual(Linear 4->4), Sequential{ Linear 4->3, GELU, Linear 3->2 (no bias) } }
template <class T>
Sequential<T> small_net(Rng& rng) {
  Sequential<T> net;
  net.push_back(std::make_unique<Residual<T>>(std::make_unique<Linear<T>>(4, 4, rng)));
  auto inner = std::make_unique<Sequential<T>>();
  inner->template emplace<Linear<T>>(4, 3, rng);
  inner->template emplace<Activation<T>>(ActivationKind::GELU);
  inner->template emplace<Linear<T>>(3, 2, rng, false);
  net.push_back(std::move(inner));
  return net;
}

fs::path scratch(const std::string& name) {
  fs::create_directories("nn_scratch");
  fs::path p = fs::path("nn_scratch") / name;
  fs::remove(p);
  return p;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no exception>";
}

// y = w * x with a deliberately wrong weight gradient (2 w x dy): gradcheck must see it unless frozen.
class WrongGradient : public ModuleImpl<WrongGradient, double> {
 public:
  WrongGradient() : w_(Tensor<double>({1}, 1.5)) {}
  Tensor<double> forward(const Tensor<double>& x) override {
    x_ = x;
    Tensor<double> y = x;
    y.vec() *= w_.value[0];
    return y;
  }
  Tensor<double> backward(const Tensor<double>& dy) override {
    w_.grad[0] += 2 * dy.vec().dot(x_.vec());
    Tensor<double> dx = dy;
    dx.vec() *= w_.value[0];
    return dx;
  }
  std::string type_name() const override { return "WrongGradient"; }
  void for_each_parameter(const ParameterFn& fn) override { fn("w", w_); }

 private:
  Parameter<double> w_;
  Tensor<double> x_;
};
}  // namespace

BOOST_AUTO_TEST_SUITE(module_base)

BOOST_AUTO_TEST_CASE(hierarchical_names_and_counts) {
  Rng rng(1);
  auto net = small_net<double>(rng);
  std::vector<std::string> names;
  for (auto& p : net.named_parameters()) names.push_back(p.name);
  const std::vector<std::string> expected = {"0.inner.weight", "0.inner.bias", "1.0.weight", "1.0.bias", "1.2.weight"};
  BOOST_TEST(names == expected, boost::test_tools::per_element());
  BOOST_TEST(net.parameter_count() == 4 * 4 + 4 + 4 * 3 + 3 + 3 * 2);
  BOOST_TEST(&net.parameter("1.2.weight") == &net.submodule("1.2").parameter("weight"));
  BOOST_TEST(net.submodule("1.1").type_name() == "GELU");
  const std::string msg = message_of([&] { net.parameter("1.2.bias"); });
  BOOST_TEST(msg.find("1.2.bias") != std::string::npos);
  BOOST_TEST(msg.find("1.0.bias") != std::string::npos);  // lists what exists
}

BOOST_AUTO_TEST_CASE(zero_grad_and_accumulation) {
  Rng rng(2);
  auto net = small_net<double>(rng);
  const auto x = Tensor<double>::randn({5, 4}, rng);
  const auto dy = Tensor<double>::randn({5, 2}, rng);
  net.forward(x);
  net.backward(dy);
  const Tensor<double> once = net.parameter("1.0.weight").grad;
  BOOST_TEST(once.vec().norm() > 0);
  net.forward(x);
  net.backward(dy);  // accumulates
  BOOST_TEST((net.parameter("1.0.weight").grad.vec() - 2 * once.vec()).norm() < 1e-12 * once.vec().norm());
  net.zero_grad();
  for (auto& p : net.named_parameters()) BOOST_TEST(p.param->grad.vec().norm() == 0.0);
}

BOOST_AUTO_TEST_CASE(eval_mode_keeps_no_cache) {
  Rng rng(3);
  auto net = small_net<float>(rng);
  const auto x = Tensor<float>::randn({2, 4}, rng);
  const auto y_train = net.forward(x);
  net.eval();
  BOOST_TEST(!net.training());
  BOOST_TEST(!net.submodule("1.0").training());
  const auto y_eval = net.forward(x);
  BOOST_TEST((y_train.vec() - y_eval.vec()).norm() == 0.0f);
  const std::string msg = message_of([&] { net.backward(Tensor<float>({2, 2})); });
  // The last layer runs first in backward and names itself and its path.
  BOOST_TEST(msg.find("1.2 (Linear)") != std::string::npos, msg);
  BOOST_TEST(msg.find("forward() in training mode") != std::string::npos, msg);
  net.train();
  net.forward(x);
  BOOST_CHECK_NO_THROW(net.backward(Tensor<float>({2, 2})));
  // Residual blocks name their inner path too.
  Sequential<float> res;
  res.push_back(std::make_unique<Residual<float>>(std::make_unique<Linear<float>>(4, 4, rng)));
  res.eval();
  res.forward(x);
  const std::string inner_msg = message_of([&] { res.backward(Tensor<float>({2, 4})); });
  BOOST_TEST(inner_msg.find("0.inner (Linear)") != std::string::npos, inner_msg);
}

BOOST_AUTO_TEST_CASE(frozen_parameters_are_skipped) {
  Rng rng(4);
  auto net = small_net<double>(rng);
  net.submodule("0").set_trainable(false);
  BOOST_TEST(net.parameter_count(true) == net.parameter_count() - 20);
  BOOST_TEST(!net.parameter("0.inner.bias").trainable);
  BOOST_TEST(net.parameter("1.0.bias").trainable);

  WrongGradient wrong;
  Tensor<double> x = Tensor<double>::randn({6}, rng);
  BOOST_TEST(gradcheck(wrong, x).parameter_error > 0.1);  // the check can fail
  wrong.set_trainable(false);
  const auto r = gradcheck(wrong, x);
  BOOST_TEST(r.parameter_error == 0.0);
  BOOST_TEST(r.adjoint_parameter_error == 0.0);
  BOOST_TEST(r.input_error < 1e-8);
  BOOST_TEST(wrong.parameter_count(true) == 0);
}

BOOST_AUTO_TEST_CASE(clone_is_a_deep_copy) {
  Rng rng(5);
  auto net = small_net<double>(rng);
  auto copy = net.clone();
  const auto x = Tensor<double>::randn({3, 4}, rng);
  const auto y0 = net.forward(x);
  copy->parameter("1.0.weight").value.vec() *= 2.0;
  copy->parameter("0.inner.bias").value.fill(7.0);
  BOOST_TEST((net.forward(x).vec() - y0.vec()).norm() == 0.0);
  BOOST_TEST((copy->forward(x).vec() - y0.vec()).norm() > 1e-3);
  // Layers with workspaces copy too.
  Conv<float> conv(2, 2, 3, {3}, rng, {.padding = {1}, .padding_mode = PaddingMode::Circular});
  const auto xi = Tensor<float>::randn({1, 2, 5, 5}, rng);
  const auto c0 = conv.forward(xi);
  Conv<float> conv_copy = conv;
  BOOST_CHECK_THROW(conv_copy.backward(c0), Error);  // scratch memory and caches are not copied
  conv_copy.weight().value.fill(0.f);
  BOOST_TEST((conv.forward(xi).vec() - c0.vec()).norm() == 0.0f);
  const auto only_bias = conv_copy.forward(xi);
  for (index_t i = 0; i < only_bias.numel(); ++i) BOOST_TEST(only_bias[i] == conv_copy.bias().value[i / 25]);
}

BOOST_AUTO_TEST_CASE(save_and_load_round_trip) {
  Rng rng(6);
  auto net = small_net<double>(rng);
  net.parameter("1.0.bias").trainable = false;
  const auto path = scratch("params.h5");
  {
    auto f = io::H5File::create(path);
    net.save_parameters(f);
    f.commit();
  }
  Rng other(99);
  auto fresh = small_net<double>(other);
  const auto x = Tensor<double>::randn({2, 4}, rng);
  BOOST_TEST((fresh.forward(x).vec() - net.forward(x).vec()).norm() > 1e-6);
  auto f = io::H5File::open(path);
  fresh.load_parameters(f);
  BOOST_TEST((fresh.forward(x).vec() - net.forward(x).vec()).norm() == 0.0);
  BOOST_TEST(!fresh.parameter("1.0.bias").trainable);
}

BOOST_AUTO_TEST_CASE(load_reports_wrong_names_and_shapes) {
  Rng rng(7);
  auto net = small_net<double>(rng);
  const auto path = scratch("bad_params.h5");
  {
    auto f = io::H5File::create(path);
    net.save_parameters(f);
    f.write("/parameters/1.0.weight", Tensor<double>({3, 5}), true);  // wrong shape
    f.write("/parameters/2.weight", Tensor<double>({1}));             // unknown name
    f.commit();
  }
  auto f = io::H5File::open(path);
  const std::string shape_msg = message_of([&] { net.load_parameters(f); });
  BOOST_TEST(shape_msg.find("1.0.weight") != std::string::npos, shape_msg);
  BOOST_TEST(shape_msg.find("(3, 5)") != std::string::npos, shape_msg);
  BOOST_TEST(shape_msg.find("(3, 4)") != std::string::npos, shape_msg);
  // A model with the right shapes still rejects the extra dataset, by name.
  const auto path2 = scratch("extra_params.h5");
  {
    auto g = io::H5File::create(path2);
    net.save_parameters(g);
    g.write("/parameters/2.weight", Tensor<double>({1}));
    g.commit();
  }
  auto g = io::H5File::open(path2);
  const std::string name_msg = message_of([&] { net.load_parameters(g); });
  BOOST_TEST(name_msg.find("2.weight") != std::string::npos, name_msg);
  // A missing parameter is named too.
  const auto path3 = scratch("clean_params.h5");
  {
    auto h = io::H5File::create(path3);
    net.save_parameters(h);
    h.commit();
  }
  Rng rng2(8);
  Sequential<double> bigger = small_net<double>(rng2);
  bigger.emplace<Linear<double>>(2, 2, rng2);
  auto h = io::H5File::open(path3);
  const std::string missing_msg = message_of([&] { bigger.load_parameters(h); });
  BOOST_TEST(missing_msg.find("2.weight") != std::string::npos, missing_msg);
  BOOST_TEST(missing_msg.find("missing") != std::string::npos, missing_msg);
}

BOOST_AUTO_TEST_CASE(errors_carry_the_module_path) {
  Rng rng(9);
  Sequential<float> net;
  net.emplace<Linear<float>>(4, 8, rng);
  auto inner = std::make_unique<Sequential<float>>();
  inner->emplace<Activation<float>>(ActivationKind::ReLU);
  inner->emplace<Conv<float>>(2, 3, 2, std::vector<index_t>{3}, rng);
  net.push_back(std::move(inner));
  const std::string msg = message_of([&] { net.forward(Tensor<float>({2, 4})); });
  BOOST_TEST(msg.find("1.1 (Conv2d)") != std::string::npos, msg);
  BOOST_TEST(msg.find("(2, 8)") != std::string::npos, msg);        // found
  BOOST_TEST(msg.find("(*, 3, *, *)") != std::string::npos, msg);  // expected
}

BOOST_AUTO_TEST_SUITE_END()
