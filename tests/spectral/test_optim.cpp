// Optimizers and schedulers: trajectories on a small quadratic against a straightforward
// re-implementation of PyTorch's update formulas, schedules against values printed by
// torch.optim.lr_scheduler 1.13, bit-identical continuation after an HDF5 save/restore.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/scheduler.hpp"

using namespace neurops;
using namespace neurops::nn;

namespace {

/// Parameters only: a complex "weight" (3, 2) stored as pairs and a real "bias" (2).
template <class T>
class TwoParameters : public ModuleImpl<TwoParameters<T>, T> {
 public:
  TwoParameters() : weight(Tensor<T>(Shape{3, 2}), true), bias(Tensor<T>(Shape{2})) {
    Rng rng(4);
    for (auto& v : weight.value) v = static_cast<T>(rng.normal());
    for (auto& v : bias.value) v = static_cast<T>(rng.normal());
  }
  Tensor<T> forward(const Tensor<T>& x) override { return x; }
  Tensor<T> backward(const Tensor<T>& dy) override { return dy; }
  std::string type_name() const override { return "TwoParameters"; }
  void for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) override {
    fn("weight", weight);
    fn("bias", bias);
  }
  Parameter<T> weight, bias;
};

/// f(p) = 1/2 sum a_i (p_i - c_i)^2 over all parameter entries, with fixed a and c per entry.
double curvature(std::size_t i) { return 0.5 + 0.3 * double(i % 5); }
double centre(std::size_t i) { return std::sin(double(i)); }

template <class T>
void quadratic_gradient(TwoParameters<T>& m) {
  std::size_t k = 0;
  for (auto* p : {&m.weight, &m.bias})
    for (index_t i = 0; i < p->numel(); ++i, ++k)
      p->grad[i] = static_cast<T>(curvature(k) * (double(p->value[i]) - centre(k)));
}

std::vector<double> flat(TwoParameters<double>& m) {
  std::vector<double> v(m.weight.value.begin(), m.weight.value.end());
  v.insert(v.end(), m.bias.value.begin(), m.bias.value.end());
  return v;
}

/// Reference trajectories, written from the PyTorch documentation's pseudo-code; lr and weight decay
/// per entry (so parameter groups are covered).
struct Reference {
  std::vector<double> p, buf, m, v;
  std::vector<double> lr, wd;
  int t = 0;
  std::vector<double> grad() const {
    std::vector<double> g(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) g[i] = curvature(i) * (p[i] - centre(i));
    return g;
  }
  void sgd(double mu, double damp, bool nesterov) {
    auto g = grad();
    ++t;
    for (std::size_t i = 0; i < p.size(); ++i) {
      double d = g[i] + wd[i] * p[i];
      if (mu != 0) {
        buf[i] = t == 1 ? d : mu * buf[i] + (1 - damp) * d;
        d = nesterov ? d + mu * buf[i] : buf[i];
      }
      p[i] -= lr[i] * d;
    }
  }
  void adam(double b1, double b2, double eps, bool decoupled) {
    auto g = grad();
    ++t;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (decoupled) p[i] *= 1 - lr[i] * wd[i];
      const double gi = decoupled ? g[i] : g[i] + wd[i] * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr[i] * mhat / (std::sqrt(vhat) + eps);
    }
  }
};

Reference reference_for(TwoParameters<double>& m, double weight_lr, double bias_lr, double weight_wd, double bias_wd) {
  Reference r;
  r.p = flat(m);
  const std::size_t nw = static_cast<std::size_t>(m.weight.numel());
  for (std::size_t i = 0; i < r.p.size(); ++i) {
    r.lr.push_back(i < nw ? weight_lr : bias_lr);
    r.wd.push_back(i < nw ? weight_wd : bias_wd);
  }
  r.buf = r.m = r.v = std::vector<double>(r.p.size(), 0.0);
  return r;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double e = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i]));
  return e;
}

const std::vector<ParamGroupSpec> kBiasGroup = {
    {"biases", [](const std::string& n) { return n == "bias"; }, 2e-1, 0.0}};

}  // namespace

BOOST_AUTO_TEST_SUITE(optimizers)

BOOST_AUTO_TEST_CASE(sgd_momentum_nesterov_weight_decay) {
  for (int variant = 0; variant < 4; ++variant) {
    const double mu = variant == 0 ? 0.0 : 0.9, damp = variant == 2 ? 0.3 : 0.0;
    const bool nesterov = variant == 3;
    TwoParameters<double> model;
    Sgd<double> opt(model, {.lr = 0.05, .momentum = mu, .dampening = damp, .nesterov = nesterov, .weight_decay = 1e-2});
    auto ref = reference_for(model, 0.05, 0.05, 1e-2, 1e-2);
    for (int it = 0; it < 25; ++it) {
      quadratic_gradient(model);
      opt.step();
      ref.sgd(mu, damp, nesterov);
    }
    BOOST_TEST(max_diff(flat(model), ref.p) < 1e-13, "variant " << variant);
    BOOST_TEST(max_diff(flat(model), ref.p) >= 0.0);
    BOOST_TEST(std::abs(ref.p[0] - 1.0) > 1e-3);  // moved away from the start: a real trajectory
  }
}

BOOST_AUTO_TEST_CASE(adam_and_adamw_with_parameter_groups) {
  for (bool decoupled : {false, true}) {
    TwoParameters<double> model;
    AdamOptions o{.lr = 1e-2, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.05};
    std::unique_ptr<Optimizer<double>> opt;
    if (decoupled)
      opt = std::make_unique<AdamW<double>>(model, o, kBiasGroup);
    else
      opt = std::make_unique<Adam<double>>(model, o, kBiasGroup);
    BOOST_REQUIRE_EQUAL(opt->group_count(), 2u);
    BOOST_TEST(opt->group(0).label == "biases");
    BOOST_TEST(opt->lr(0) == 2e-1);
    BOOST_TEST(opt->lr(1) == 1e-2);
    auto ref = reference_for(model, 1e-2, 2e-1, 0.05, 0.0);
    for (int it = 0; it < 30; ++it) {
      quadratic_gradient(model);
      opt->step();
      ref.adam(0.8, 0.99, 1e-6, decoupled);
    }
    BOOST_TEST(max_diff(flat(model), ref.p) < 1e-12, (decoupled ? "AdamW" : "Adam")
                                                         << ": " << max_diff(flat(model), ref.p));
  }
}

BOOST_AUTO_TEST_CASE(frozen_parameters_are_skipped) {
  TwoParameters<double> model;
  model.bias.trainable = false;
  const auto bias0 = model.bias.value;
  Adam<double> opt(model);
  quadratic_gradient(model);
  opt.step();
  BOOST_TEST(std::memcmp(bias0.data(), model.bias.value.data(), sizeof(double) * 2) == 0);
  BOOST_TEST(model.weight.value[0] != TwoParameters<double>().weight.value[0]);
}

BOOST_AUTO_TEST_CASE(gradient_norm_clipping) {
  TwoParameters<double> model;
  model.weight.grad.fill(1.0);  // 6 entries
  model.bias.grad.fill(2.0);    // 2 entries: total norm sqrt(6 + 8)
  const double norm = clip_grad_norm(model, 1.0);
  BOOST_TEST(std::abs(norm - std::sqrt(14.0)) < 1e-14);
  double after = 0;
  for (double g : model.weight.grad) after += g * g;
  for (double g : model.bias.grad) after += g * g;
  BOOST_TEST(std::abs(std::sqrt(after) - 1.0) < 1e-6);
  // Below the threshold nothing changes.
  const auto before = model.weight.grad;
  clip_grad_norm(model, 10.0);
  BOOST_TEST(model.weight.grad[0] == before[0]);
}

BOOST_AUTO_TEST_CASE(trajectories_match_torch_when_available) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 has no torch");
    return;
  }
  const auto script = std::filesystem::path(__FILE__).parent_path() / "torch_optim_trajectory.py";
  const int steps = 25;
  std::ostringstream cmd;
  cmd.precision(17);
  cmd << "/usr/bin/python3 " << script << " " << steps;
  TwoParameters<double> start;
  for (double v : flat(start)) cmd << " " << v;
  FILE* pipe = popen(cmd.str().c_str(), "r");
  BOOST_REQUIRE(pipe);
  std::map<std::string, std::vector<double>> torch_values;
  char name[64];
  while (std::fscanf(pipe, "%63s", name) == 1) {
    double v;
    for (int i = 0; i < 8 && std::fscanf(pipe, "%lf", &v) == 1; ++i) torch_values[name].push_back(v);
  }
  BOOST_REQUIRE_EQUAL(pclose(pipe), 0);
  for (const std::string optimizer : {"sgd_nesterov", "adam_groups", "adamw_groups"}) {
    TwoParameters<double> model;
    std::unique_ptr<Optimizer<double>> opt;
    const AdamOptions o{.lr = 1e-2, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.05};
    if (optimizer == "sgd_nesterov")
      opt = std::make_unique<Sgd<double>>(
          model, SgdOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-2});
    else if (optimizer == "adam_groups")
      opt = std::make_unique<Adam<double>>(model, o, kBiasGroup);
    else
      opt = std::make_unique<AdamW<double>>(model, o, kBiasGroup);
    for (int it = 0; it < steps; ++it) {
      quadratic_gradient(model);
      opt->step();
    }
    const auto& ref = torch_values[optimizer];
    BOOST_REQUIRE_EQUAL(ref.size(), 8u);
    BOOST_TEST(max_diff(flat(model), ref) < 1e-12, optimizer << ": " << max_diff(flat(model), ref));
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(schedulers)

BOOST_AUTO_TEST_CASE(step_exponential_cosine) {
  TwoParameters<double> model;
  Sgd<double> opt(model, {.lr = 0.3});
  CosineAnnealingLr<double> cosine(opt, 5, 0.01);
  // torch.optim.lr_scheduler.CosineAnnealingLR(SGD(lr=0.3), T_max=5, eta_min=0.01), epochs 0..7
  const double torch_values[] = {
      0.3,  0.27230746418436735,  0.19980746418436734, 0.1101925358156326, 0.03769253581563263,
      0.01, 0.037692535815632616, 0.11019253581563264};
  for (double expected : torch_values) {
    BOOST_TEST(std::abs(opt.lr(0) - expected) < 1e-12);
    cosine.step();
  }
  Sgd<double> opt2(model, {.lr = 0.1});
  StepLr<double> step(opt2, 3, 0.5);
  const double step_values[] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
  for (double expected : step_values) {
    BOOST_TEST(std::abs(opt2.lr(0) - expected) < 1e-15);
    step.step();
  }
  Sgd<double> opt3(model, {.lr = 0.2});
  ExponentialLr<double> expo(opt3, 0.9);
  for (int e = 0; e < 5; ++e) {
    BOOST_TEST(std::abs(opt3.lr(0) - 0.2 * std::pow(0.9, e)) < 1e-15);
    expo.step();
  }
}

BOOST_AUTO_TEST_CASE(one_cycle_matches_torch) {
  TwoParameters<double> model;
  Adam<double> opt(model, {.lr = 1.0});
  OneCycleLr<double> sched(opt, 1.0, 10);
  // torch OneCycleLR(Adam, max_lr=1, total_steps=10) defaults: lr and beta1 per step
  const double lrs[] = {0.040000000000000036,
                        0.52,
                        1.0,
                        0.9504846320134737,
                        0.8117456539497631,
                        0.6112620219362893,
                        0.38874197806371075,
                        0.18825834605023697,
                        0.049519367986526286,
                        4e-06};
  const double betas[] = {0.95,
                          0.8999999999999999,
                          0.85,
                          0.854951556604879,
                          0.8688255099070633,
                          0.8888739533021842,
                          0.9111260466978157,
                          0.9311744900929366,
                          0.945048443395121,
                          0.95};
  for (int i = 0; i < 10; ++i) {
    BOOST_TEST(std::abs(opt.lr(0) - lrs[i]) < 1e-12, "step " << i);
    BOOST_TEST(std::abs(opt.momentum(0) - betas[i]) < 1e-12, "step " << i);
    quadratic_gradient(model);
    opt.step();
    sched.step();
  }
  // torch OneCycleLR(SGD(momentum=0.9), max_lr=2, total_steps=7, three_phase=True, anneal_strategy='linear')
  Sgd<double> sgd(model, {.lr = 0.5, .momentum = 0.9});
  OneCycleLr<double> three(sgd, 2.0, 7, {.three_phase = true, .cos_anneal = false});
  const double lrs3[] = {0.08,
                         1.8254545454545454,
                         0.4290909090909094,
                         0.06315957894736843,
                         0.04210905263157895,
                         0.021058526315789472,
                         7.999999999994123e-06};
  const double mom3[] = {0.95, 0.8590909090909091, 0.9318181818181818, 0.95, 0.95, 0.95, 0.95};
  for (int i = 0; i < 7; ++i) {
    BOOST_TEST(std::abs(sgd.lr(0) - lrs3[i]) < 1e-12, "step " << i);
    BOOST_TEST(std::abs(sgd.momentum(0) - mom3[i]) < 1e-12, "step " << i);
    three.step();
  }
  BOOST_CHECK_THROW(three.step(), Error);  // past total_steps
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(checkpoint)

template <class Opt, class Sched, class MakeOpt, class MakeSched>
void check_bit_identical_resume(MakeOpt make_opt, MakeSched make_sched, const std::string& tag) {
  const int total = 12, stop = 5;
  const auto path = std::filesystem::temp_directory_path() / ("neurops_optim_resume_" + tag + ".h5");
  // Uninterrupted run.
  TwoParameters<float> straight;
  {
    auto opt = make_opt(straight);
    auto sched = make_sched(*opt);
    for (int i = 0; i < total; ++i) {
      quadratic_gradient(straight);
      opt->step();
      sched->step();
    }
  }
  // Run, save at `stop`, restore into fresh objects, continue.
  {
    TwoParameters<float> first;
    auto opt = make_opt(first);
    auto sched = make_sched(*opt);
    for (int i = 0; i < stop; ++i) {
      quadratic_gradient(first);
      opt->step();
      sched->step();
    }
    auto file = io::H5File::create(path);
    first.save_parameters(file, "/model");
    opt->save_state(file, "/optimizer");
    sched->save_state(file, "/scheduler");
    file.commit();
  }
  TwoParameters<float> resumed;
  resumed.weight.value.fill(7.f);  // different starting point, overwritten by the load
  auto opt = make_opt(resumed);
  auto sched = make_sched(*opt);
  {
    auto file = io::H5File::open(path);
    resumed.load_parameters(file, "/model");
    opt->load_state(file, "/optimizer");
    sched->load_state(file, "/scheduler");
  }
  for (int i = stop; i < total; ++i) {
    quadratic_gradient(resumed);
    opt->step();
    sched->step();
  }
  BOOST_TEST(std::memcmp(resumed.weight.value.data(), straight.weight.value.data(), sizeof(float) * 6) == 0, tag);
  BOOST_TEST(std::memcmp(resumed.bias.value.data(), straight.bias.value.data(), sizeof(float) * 2) == 0, tag);
  BOOST_TEST(opt->steps_taken() == total);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(adam_one_cycle_resume_is_bit_identical) {
  check_bit_identical_resume<Adam<float>, OneCycleLr<float>>(
      [](TwoParameters<float>& m) { return std::make_unique<Adam<float>>(m, AdamOptions{.lr = 1e-2}, kBiasGroup); },
      [](Optimizer<float>& o) {
        return std::make_unique<OneCycleLr<float>>(o, std::vector<double>{0.2, 0.05}, 12);
      },
      "adam");
}

BOOST_AUTO_TEST_CASE(sgd_and_adamw_resume_is_bit_identical) {
  check_bit_identical_resume<Sgd<float>, StepLr<float>>(
      [](TwoParameters<float>& m) {
        return std::make_unique<Sgd<float>>(
            m, SgdOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-3});
      },
      [](Optimizer<float>& o) { return std::make_unique<StepLr<float>>(o, 4, 0.5); }, "sgd");
  check_bit_identical_resume<AdamW<float>, CosineAnnealingLr<float>>(
      [](TwoParameters<float>& m) { return std::make_unique<AdamW<float>>(m); },
      [](Optimizer<float>& o) { return std::make_unique<CosineAnnealingLr<float>>(o, 12, 1e-4); }, "adamw");
}

BOOST_AUTO_TEST_CASE(mismatching_state_is_an_error) {
  const auto path = std::filesystem::temp_directory_path() / "neurops_optim_bad_state.h5";
  TwoParameters<double> model;
  Adam<double> adam(model);
  {
    auto file = io::H5File::create(path);
    adam.save_state(file, "/opt");
    file.commit();
  }
  auto file = io::H5File::open(path);
  Sgd<double> sgd(model);
  BOOST_CHECK_THROW(sgd.load_state(file, "/opt"), Error);  // other optimizer type
  BOOST_CHECK_THROW(adam.load_state(file, "/missing"), Error);
  TwoParameters<double> other;
  other.bias = Parameter<double>(Tensor<double>(Shape{3}));
  Adam<double> adam_other(other);
  try {
    adam_other.load_state(file, "/opt");
    BOOST_ERROR("expected an Error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find("bias") != std::string::npos, msg);
    BOOST_TEST(msg.find("(2,)") != std::string::npos, msg);
  }
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()
