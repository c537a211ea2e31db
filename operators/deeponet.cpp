#include "neurops/operators/deeponet.hpp"
#include "neurops/core/options.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "config_group.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/init.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/trainer.hpp"

namespace neurops::operators {

namespace {

std::string list(const std::vector<index_t>& v) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
  s << "]";
  return s.str();
}

/// DeepXDE's initialiser: Glorot-normal weights, zero biases.
template <class T>
void glorot_normal_zero_bias(nn::Module<T>& net, Rng& rng) {
  for (auto& p : net.named_parameters()) {
    const std::string& n = p.name;
    if (n.size() >= 4 && n.compare(n.size() - 4, 4, "bias") == 0)
      p.param->value.vec().setZero();
    else
      nn::init::glorot_normal(p.param->value, rng);
  }
}

}  // namespace

std::string to_string(MultiOutputStrategy s) {
  switch (s) {
    case MultiOutputStrategy::independent:
      return "independent";
    case MultiOutputStrategy::split_both:
      return "split_both";
    case MultiOutputStrategy::split_branch:
      return "split_branch";
    case MultiOutputStrategy::split_trunk:
      return "split_trunk";
  }
  return "?";
}

MultiOutputStrategy multi_output_strategy_from_string(const std::string& name) {
  for (auto s : {MultiOutputStrategy::independent, MultiOutputStrategy::split_both, MultiOutputStrategy::split_branch,
                 MultiOutputStrategy::split_trunk})
    if (to_string(s) == name) return s;
  NEUROPS_THROW("unknown DeepONet multi-output strategy '"
                << name << "', expected independent, split_both, split_branch or split_trunk");
}

// ---- configuration ------------------------------------------------------------------------------

void DeepOnetConfig::validate() const {
  NEUROPS_CHECK(branch_layers.size() >= 2,
                "DeepONet: branch_layers needs {sensors, ..., basis}, found " << list(branch_layers));
  NEUROPS_CHECK(trunk_layers.size() >= (pod ? 1u : 2u),
                "DeepONet: trunk_layers needs {coordinates, ..., basis}, found " << list(trunk_layers));
  for (index_t w : branch_layers)
    NEUROPS_CHECK(w >= 1, "DeepONet: branch_layers must be >= 1, found " << list(branch_layers));
  for (index_t w : trunk_layers)
    NEUROPS_CHECK(w >= 1, "DeepONet: trunk_layers must be >= 1, found " << list(trunk_layers));
  if (!pod)
    NEUROPS_CHECK(trunk_layers.back() == branch_layers.back(),
                  "DeepONet: branch and trunk must end in the same number of basis functions, found branch "
                      << list(branch_layers) << " and trunk " << list(trunk_layers));
  NEUROPS_CHECK(outputs >= 1, "DeepONet: outputs must be >= 1, found " << outputs);
  NEUROPS_CHECK(pod_points >= 0, "DeepONet: pod_points must be >= 0, found " << pod_points);
  NEUROPS_CHECK(!pod || outputs == 1, "DeepONet: a POD-DeepONet has one output, found outputs = " << outputs);
}

void DeepOnetConfig::save(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attr(group, "model", std::string("DeepONet"));
  file.set_attr(group, "branch_layers", std::vector<std::int64_t>(branch_layers.begin(), branch_layers.end()));
  file.set_attr(group, "trunk_layers", std::vector<std::int64_t>(trunk_layers.begin(), trunk_layers.end()));
  file.set_attr(group, "branch_activation", nn::to_string(branch_activation));
  file.set_attr(group, "trunk_activation", nn::to_string(trunk_activation));
  file.set_attr(group, "stacked", std::int64_t(stacked));
  file.set_attr(group, "outputs", outputs);
  file.set_attr(group, "strategy", to_string(strategy));
  file.set_attr(group, "pod", std::int64_t(pod));
  file.set_attr(group, "pod_points", pod_points);
  file.set_attr(group, "seed", std::int64_t(seed));
}

DeepOnetConfig DeepOnetConfig::load(const io::H5File& file, const std::string& group) {
  check_config_group(file, group, "DeepONet");
  DeepOnetConfig c;
  const auto b = file.attr_ints(group, "branch_layers"), t = file.attr_ints(group, "trunk_layers");
  c.branch_layers.assign(b.begin(), b.end());
  c.trunk_layers.assign(t.begin(), t.end());
  c.branch_activation = nn::activation_from_string(file.attr_string(group, "branch_activation"));
  c.trunk_activation = nn::activation_from_string(file.attr_string(group, "trunk_activation"));
  c.stacked = file.attr_int(group, "stacked") != 0;
  c.outputs = file.attr_int(group, "outputs");
  c.strategy = multi_output_strategy_from_string(file.attr_string(group, "strategy"));
  c.pod = file.attr_int(group, "pod") != 0;
  c.pod_points = file.attr_int(group, "pod_points");
  c.seed = static_cast<std::uint64_t>(file.attr_int(group, "seed"));
  c.validate();
  return c;
}

void DeepOnetConfig::set_from_options(const std::string& prefix) {
  Options opt("DeepONet model", prefix);
  const auto b =
      opt.integers("branch", {branch_layers.begin(), branch_layers.end()}, "branch widths {m, hidden..., p}");
  branch_layers.assign(b.begin(), b.end());
  const auto t = opt.integers("trunk", {trunk_layers.begin(), trunk_layers.end()}, "trunk widths {d, hidden..., p}");
  trunk_layers.assign(t.begin(), t.end());
  const std::vector<std::string> acts{"relu", "gelu", "tanh", "sin", "identity"};
  branch_activation = nn::activation_from_string(
      opt.choice("branch_activation", nn::to_string(branch_activation), acts, "activation of the branch net"));
  trunk_activation = nn::activation_from_string(
      opt.choice("trunk_activation", nn::to_string(trunk_activation), acts, "activation of the trunk net"));
  stacked = opt.flag("stacked", stacked, "p scalar branch nets instead of one");
  outputs = opt.integer("outputs", outputs, "output components K");
  strategy = multi_output_strategy_from_string(opt.choice("strategy", to_string(strategy),
                                                          {"independent", "split_both", "split_branch", "split_trunk"},
                                                          "multi-output strategy"));
  pod = opt.flag("pod", pod, "POD trunk (Cartesian data only)");
  seed = static_cast<std::uint64_t>(opt.integer("seed", static_cast<std::int64_t>(seed), "seed of the weights"));
  validate();
}

bool DeepOnetConfig::operator==(const DeepOnetConfig& o) const {
  return branch_layers == o.branch_layers && trunk_layers == o.trunk_layers &&
         branch_activation == o.branch_activation && trunk_activation == o.trunk_activation && stacked == o.stacked &&
         outputs == o.outputs && strategy == o.strategy && pod == o.pod && pod_points == o.pod_points && seed == o.seed;
}

// ---- stacked branch -----------------------------------------------------------------------------

template <class T>
StackedMlp<T>::StackedMlp(index_t stack, const std::vector<index_t>& widths, nn::ActivationKind activation, Rng& rng)
    : stack_(stack), widths_(widths), activation_(activation) {
  NEUROPS_CHECK(stack >= 1 && widths.size() >= 2, "StackedMLP: needs stack >= 1 and widths {in, ..., out}, found stack "
                                                      << stack << " and widths " << list(widths));
  for (std::size_t j = 0; j + 1 < widths.size(); ++j) {
    const index_t in = widths[j], out = widths[j + 1];
    nn::Parameter<T> w(Tensor<T>({stack, out, in})), b(Tensor<T>({stack, out}));
    // "Stacked Glorot": every net gets the Glorot variance of its own (out, in) matrix.
    Tensor<T> one({out, in});
    for (index_t s = 0; s < stack; ++s) {
      nn::init::glorot_normal(one, rng);
      std::memcpy(w.value.data() + s * out * in, one.data(), sizeof(T) * static_cast<std::size_t>(out * in));
    }
    weights_.push_back(std::move(w));
    biases_.push_back(std::move(b));
  }
}

template <class T>
Tensor<T> StackedMlp<T>::forward(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() == 2 && x.size(1) == widths_.front(),
                "StackedMLP: expected input (N, " << widths_.front() << "), found " << x.shape());
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const index_t n = x.size(0), layers = static_cast<index_t>(weights_.size());
  batch_ = n;
  activations_.clear();
  const bool keep = this->training();
  if (keep) activations_.push_back(x);
  // Layer 0: one GEMM for all nets, (N, in) x (S*out, in)^T, then reordered to (S, N, out).
  index_t out = widths_[1];
  Tensor<T> z = Tensor<T>::uninitialized({stack_, n, out});
  {
    const Mat all = x.matrix() * weights_[0].value.matrix(stack_ * out, widths_[0]).transpose();
    for (index_t s = 0; s < stack_; ++s)
      z.matrix(stack_ * n, out).middleRows(s * n, n) =
          all.middleCols(s * out, out).rowwise() + biases_[0].value.matrix(stack_, out).row(s);
  }
  for (index_t j = 1; j < layers; ++j) {
    if (keep) activations_.push_back(z);  // pre-activation of layer j-1
    nn::activation_forward(activation_, z.data(), z.data(), z.numel());
    if (keep) activations_.push_back(z);  // input of layer j
    const index_t in = widths_[static_cast<std::size_t>(j)];
    out = widths_[static_cast<std::size_t>(j + 1)];
    Tensor<T> next = Tensor<T>::uninitialized({stack_, n, out});
    for (index_t s = 0; s < stack_; ++s) {
      auto h = z.matrix(stack_ * n, in).middleRows(s * n, n);
      auto w = weights_[static_cast<std::size_t>(j)].value.matrix(stack_ * out, in).middleRows(s * out, out);
      next.matrix(stack_ * n, out).middleRows(s * n, n).noalias() = h * w.transpose();
      next.matrix(stack_ * n, out).middleRows(s * n, n).rowwise() +=
          biases_[static_cast<std::size_t>(j)].value.matrix(stack_, out).row(s);
    }
    z = std::move(next);
  }
  // (S, N, out) -> (N, S*out)
  Tensor<T> y = Tensor<T>::uninitialized({n, stack_ * out});
  for (index_t s = 0; s < stack_; ++s)
    y.matrix().middleCols(s * out, out) = z.matrix(stack_ * n, out).middleRows(s * n, n);
  return y;
}

template <class T>
Tensor<T> StackedMlp<T>::backward(const Tensor<T>& dy) {
  const index_t layers = static_cast<index_t>(weights_.size());
  this->require_cache(static_cast<index_t>(activations_.size()) == 2 * layers - 1);
  const index_t n = batch_;
  index_t out = widths_.back();
  NEUROPS_CHECK(
      dy.rank() == 2 && dy.size(0) == n && dy.size(1) == stack_ * out,
      "StackedMLP: gradient " << dy.shape() << " does not match the output (" << n << ", " << stack_ * out << ")");
  Tensor<T> g = Tensor<T>::uninitialized({stack_, n, out});
  for (index_t s = 0; s < stack_; ++s)
    g.matrix(stack_ * n, out).middleRows(s * n, n) = dy.matrix().middleCols(s * out, out);
  for (index_t j = layers - 1; j >= 1; --j) {
    const index_t in = widths_[static_cast<std::size_t>(j)];
    const Tensor<T>& h = activations_[static_cast<std::size_t>(2 * j)];
    const Tensor<T>& zprev = activations_[static_cast<std::size_t>(2 * j - 1)];
    auto& W = weights_[static_cast<std::size_t>(j)];
    auto& B = biases_[static_cast<std::size_t>(j)];
    Tensor<T> dh = Tensor<T>::uninitialized({stack_, n, in});
    for (index_t s = 0; s < stack_; ++s) {
      auto gs = g.matrix(stack_ * n, out).middleRows(s * n, n);
      auto hs = h.matrix(stack_ * n, in).middleRows(s * n, n);
      W.grad.matrix(stack_ * out, in).middleRows(s * out, out).noalias() += gs.transpose() * hs;
      B.grad.matrix(stack_, out).row(s) += gs.colwise().sum();
      dh.matrix(stack_ * n, in).middleRows(s * n, n).noalias() =
          gs * W.value.matrix(stack_ * out, in).middleRows(s * out, out);
    }
    nn::activation_backward(activation_, zprev.data(), dh.data(), dh.data(), dh.numel());
    g = std::move(dh);
    out = in;
  }
  // Layer 0: G_all (N, S*out) against the shared input.
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Mat gall(n, stack_ * out);
  for (index_t s = 0; s < stack_; ++s) gall.middleCols(s * out, out) = g.matrix(stack_ * n, out).middleRows(s * n, n);
  const Tensor<T>& x = activations_[0];
  weights_[0].grad.matrix(stack_ * out, widths_[0]).noalias() += gall.transpose() * x.matrix();
  biases_[0].grad.matrix(1, stack_ * out) += gall.colwise().sum();
  Tensor<T> dx = Tensor<T>::uninitialized({n, widths_[0]});
  dx.matrix().noalias() = gall * weights_[0].value.matrix(stack_ * out, widths_[0]);
  return dx;
}

template <class T>
void StackedMlp<T>::for_each_parameter(const typename nn::ModuleBase<T>::ParameterFn& fn) {
  for (std::size_t j = 0; j < weights_.size(); ++j) {
    fn("weight" + std::to_string(j), weights_[j]);
    fn("bias" + std::to_string(j), biases_[j]);
  }
}

// ---- DeepONet -----------------------------------------------------------------------------------

namespace {
DeepOnetConfig checked(DeepOnetConfig c) {
  c.validate();
  if (c.outputs == 1) c.strategy = MultiOutputStrategy::independent;  // all strategies coincide
  return c;
}
}  // namespace

template <class T>
DeepOnet<T>::DeepOnet(DeepOnetConfig config) : config_(checked(std::move(config))) {
  const index_t p = config_.basis(), k = config_.outputs;
  const bool split_b =
      config_.strategy == MultiOutputStrategy::split_both || config_.strategy == MultiOutputStrategy::split_branch;
  const bool split_t =
      config_.strategy == MultiOutputStrategy::split_both || config_.strategy == MultiOutputStrategy::split_trunk;
  const index_t branch_width = split_b ? k * p : p, trunk_width = split_t ? k * p : p;
  for (index_t i = 0; i < pairs(); ++i) {
    Rng rng = Rng::stream(config_.seed, static_cast<std::uint64_t>(2 * i + 1));
    std::vector<index_t> bw = config_.branch_layers;
    if (config_.stacked) {
      bw.back() = 1;
      branches_.push_back(std::make_unique<StackedMlp<T>>(branch_width, bw, config_.branch_activation, rng));
    } else {
      bw.back() = branch_width;
      auto mlp =
          std::make_unique<nn::Sequential<T>>(nn::make_mlp<T>(bw, rng, {config_.branch_activation, false, true}));
      glorot_normal_zero_bias(*mlp, rng);
      branches_.push_back(std::move(mlp));
    }
    if (!config_.pod) {
      Rng trng = Rng::stream(config_.seed, static_cast<std::uint64_t>(2 * i + 2));
      std::vector<index_t> tw = config_.trunk_layers;
      tw.back() = trunk_width;
      auto mlp = std::make_unique<nn::Sequential<T>>(nn::make_mlp<T>(tw, trng, {config_.trunk_activation, true, true}));
      glorot_normal_zero_bias(*mlp, trng);
      trunks_.push_back(std::move(mlp));
    }
  }
  bias_ = nn::Parameter<T>(Tensor<T>({k}));
  if (config_.pod) {
    pod_basis_ = nn::Parameter<T>(Tensor<T>({config_.pod_points, p}));
    pod_mean_ = nn::Parameter<T>(Tensor<T>({config_.pod_points}));
    pod_basis_.trainable = pod_mean_.trainable = false;
  }
}

template <class T>
std::string DeepOnet<T>::type_name() const {
  return config_.pod ? "PODDeepONet" : "DeepONet";
}

template <class T>
index_t DeepOnet<T>::pairs() const {
  return config_.strategy == MultiOutputStrategy::independent ? config_.outputs : 1;
}
template <class T>
std::size_t DeepOnet<T>::net(index_t k) const {
  return config_.strategy == MultiOutputStrategy::independent ? static_cast<std::size_t>(k) : 0;
}
template <class T>
index_t DeepOnet<T>::branch_offset(index_t k) const {
  const bool split =
      config_.strategy == MultiOutputStrategy::split_both || config_.strategy == MultiOutputStrategy::split_branch;
  return split ? k * config_.basis() : 0;
}
template <class T>
index_t DeepOnet<T>::trunk_offset(index_t k) const {
  const bool split =
      config_.strategy == MultiOutputStrategy::split_both || config_.strategy == MultiOutputStrategy::split_trunk;
  return split ? k * config_.basis() : 0;
}

template <class T>
void DeepOnet<T>::check_branch(const Tensor<T>& branch) const {
  NEUROPS_CHECK(branch.rank() == 2 && branch.size(1) == config_.sensors(),
                type_name() << ": the branch input has " << (branch.rank() == 2 ? branch.size(1) : -1)
                            << " sensor values per function (shape " << branch.shape() << "), the model takes "
                            << config_.sensors() << " sensors");
}

template <class T>
void DeepOnet<T>::check_trunk(const Tensor<T>& trunk, const std::string& form) const {
  NEUROPS_CHECK(trunk.rank() == 2 && trunk.size(1) == config_.coordinates(),
                type_name() << ": the query points (" << form << ") have " << (trunk.rank() == 2 ? trunk.size(1) : -1)
                            << " coordinates (shape " << trunk.shape()
                            << "), the model takes query points of dimension " << config_.coordinates());
}

template <class T>
Tensor<T> DeepOnet<T>::run_branch(std::size_t i, const Tensor<T>& branch) {
  return nn::with_module_path("branch." + std::to_string(i), branches_[i].type_name(),
                              [&] { return branches_[i].forward(branch); });
}
template <class T>
Tensor<T> DeepOnet<T>::run_trunk(std::size_t i, const Tensor<T>& trunk) {
  return nn::with_module_path("trunk." + std::to_string(i), trunks_[i].type_name(),
                              [&] { return trunks_[i].forward(trunk); });
}

template <class T>
Tensor<T> DeepOnet<T>::forward(const nn::Inputs<T>& inputs) {
  this->check_input_count(inputs);
  const Tensor<T>& branch = inputs[0];
  const Tensor<T>& trunk = inputs[1];
  trunk_shape_ = trunk.shape();
  if (trunk.rank() == 3) {
    NEUROPS_CHECK(trunk.size(0) == 1,
                  type_name() << ": query points shared by the batch are (1, P, d), found " << trunk.shape());
    return forward_cartesian(branch, Tensor<T>(trunk.reshaped({trunk.size(1), trunk.size(2)})));
  }
  return forward_triples(branch, trunk);
}

template <class T>
std::vector<Tensor<T>> DeepOnet<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!branch_out_.empty());
  return cartesian_ ? backward_cartesian(dy) : backward_triples(dy);
}

template <class T>
Tensor<T> DeepOnet<T>::forward_triples(const Tensor<T>& branch, const Tensor<T>& trunk) {
  NEUROPS_CHECK(!config_.pod,
                "PODDeepONet: the POD basis lives on the training grid; give the query points as (1, P, d)");
  check_branch(branch);
  check_trunk(trunk, "triples");
  NEUROPS_CHECK(trunk.size(0) == branch.size(0), type_name()
                                                     << ": triples need one query point per branch row, found branch "
                                                     << branch.shape() << " and trunk " << trunk.shape());
  const index_t n = branch.size(0), K = config_.outputs, p = config_.basis();
  std::vector<Tensor<T>> bo(static_cast<std::size_t>(pairs())), to(static_cast<std::size_t>(pairs()));
  for (std::size_t i = 0; i < bo.size(); ++i) {
    bo[i] = run_branch(i, branch);
    to[i] = run_trunk(i, trunk);
  }
  Tensor<T> y = Tensor<T>::uninitialized({n, K});
  for (index_t k = 0; k < K; ++k) {
    const auto B = bo[net(k)].matrix().middleCols(branch_offset(k), p);
    const auto Tm = to[net(k)].matrix().middleCols(trunk_offset(k), p);
    y.matrix().col(k) = (B.cwiseProduct(Tm)).rowwise().sum().array() + bias_.value[k];
  }
  cartesian_ = false;
  if (this->training()) {
    branch_out_ = std::move(bo);
    trunk_out_ = std::move(to);
  }
  return y;
}

template <class T>
std::vector<Tensor<T>> DeepOnet<T>::backward_triples(const Tensor<T>& dy) {
  const index_t n = branch_out_[0].size(0), K = config_.outputs, p = config_.basis();
  NEUROPS_CHECK(dy.shape() == Shape({n, K}),
                type_name() << ": gradient " << dy.shape() << " does not match the output (" << n << ", " << K << ")");
  std::vector<Tensor<T>> dbo, dto;
  for (std::size_t i = 0; i < branch_out_.size(); ++i) {
    dbo.emplace_back(branch_out_[i].shape());
    dto.emplace_back(trunk_out_[i].shape());
  }
  for (index_t k = 0; k < K; ++k) {
    const std::size_t i = net(k);
    const auto g = dy.matrix().col(k);
    dbo[i].matrix().middleCols(branch_offset(k), p).array() +=
        trunk_out_[i].matrix().middleCols(trunk_offset(k), p).array().colwise() * g.array();
    dto[i].matrix().middleCols(trunk_offset(k), p).array() +=
        branch_out_[i].matrix().middleCols(branch_offset(k), p).array().colwise() * g.array();
    bias_.grad[k] += g.sum();
  }
  Tensor<T> db, dt;
  for (std::size_t i = 0; i < dbo.size(); ++i) {
    Tensor<T> gb = branches_[i].backward(dbo[i]), gt = trunks_[i].backward(dto[i]);
    if (i == 0) {
      db = std::move(gb);
      dt = std::move(gt);
    } else {
      db.vec() += gb.vec();
      dt.vec() += gt.vec();
    }
  }
  std::vector<Tensor<T>> dx;
  dx.push_back(std::move(db));
  dx.push_back(std::move(dt));
  return dx;
}

template <class T>
Tensor<T> DeepOnet<T>::forward_cartesian(const Tensor<T>& branch, const Tensor<T>& trunk) {
  check_branch(branch);
  check_trunk(trunk, "Cartesian");
  const index_t n = branch.size(0), P = trunk.size(0), K = config_.outputs, p = config_.basis();
  std::vector<Tensor<T>> bo(static_cast<std::size_t>(pairs())), to;
  for (std::size_t i = 0; i < bo.size(); ++i) bo[i] = run_branch(i, branch);
  Tensor<T> y = Tensor<T>::uninitialized(K == 1 ? Shape({n, P}) : Shape({n, P, K}));
  if (config_.pod) {
    NEUROPS_CHECK(pod_basis_.value.size(0) > 0,
                  "PODDeepONet: no POD basis yet: call set_pod_basis with training outputs");
    NEUROPS_CHECK(P == pod_basis_.value.size(0), "PODDeepONet: " << P << " query points given, the POD basis has "
                                                                 << pod_basis_.value.size(0) << " (the training grid)");
    y.matrix(n, P).noalias() = (bo[0].matrix() * pod_basis_.value.matrix().transpose()) / T(p);
    y.matrix(n, P).rowwise() += pod_mean_.value.matrix(1, P).row(0);
  } else {
    for (std::size_t i = 0; i < bo.size(); ++i) to.push_back(run_trunk(i, trunk));
    if (K == 1) {
      y.matrix(n, P).noalias() = bo[0].matrix().leftCols(p) * to[0].matrix().leftCols(p).transpose();
      y.vec().array() += bias_.value[0];
    } else {
      using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      Mat yk(n, P);
      for (index_t k = 0; k < K; ++k) {
        yk.noalias() = bo[net(k)].matrix().middleCols(branch_offset(k), p) *
                       to[net(k)].matrix().middleCols(trunk_offset(k), p).transpose();
        T* out = y.data();
        for (index_t r = 0; r < n; ++r)
          for (index_t q = 0; q < P; ++q) out[(r * P + q) * K + k] = yk(r, q) + bias_.value[k];
      }
    }
  }
  cartesian_ = true;
  if (this->training()) {
    branch_out_ = std::move(bo);
    trunk_out_ = std::move(to);
  }
  return y;
}

template <class T>
std::vector<Tensor<T>> DeepOnet<T>::backward_cartesian(const Tensor<T>& dy) {
  const index_t n = branch_out_[0].size(0), K = config_.outputs, p = config_.basis();
  const index_t P = config_.pod ? pod_basis_.value.size(0) : trunk_out_[0].size(0);
  NEUROPS_CHECK(dy.numel() == n * P * K && dy.size(0) == n,
                type_name() << ": gradient " << dy.shape() << " does not match the output (" << n << ", " << P
                            << (K > 1 ? ", " + std::to_string(K) : std::string()) << ")");
  std::vector<Tensor<T>> out(2);
  out[1] = Tensor<T>(trunk_shape_);  // the POD trunk input only fixes P: zero gradient
  if (config_.pod) {
    Tensor<T> dbo(branch_out_[0].shape());
    dbo.matrix().noalias() = (dy.matrix(n, P) * pod_basis_.value.matrix()) / T(p);
    out[0] = branches_[0].backward(dbo);
    return out;
  }
  std::vector<Tensor<T>> dbo, dto;
  for (std::size_t i = 0; i < branch_out_.size(); ++i) {
    dbo.emplace_back(branch_out_[i].shape());
    dto.emplace_back(trunk_out_[i].shape());
  }
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Mat gk(n, P);
  for (index_t k = 0; k < K; ++k) {
    const std::size_t i = net(k);
    if (K == 1)
      gk = dy.matrix(n, P);
    else
      for (index_t r = 0; r < n; ++r)
        for (index_t q = 0; q < P; ++q) gk(r, q) = dy.data()[(r * P + q) * K + k];
    dbo[i].matrix().middleCols(branch_offset(k), p).noalias() +=
        gk * trunk_out_[i].matrix().middleCols(trunk_offset(k), p);
    dto[i].matrix().middleCols(trunk_offset(k), p).noalias() +=
        gk.transpose() * branch_out_[i].matrix().middleCols(branch_offset(k), p);
    bias_.grad[k] += gk.sum();
  }
  for (std::size_t i = 0; i < dbo.size(); ++i) {
    Tensor<T> gb = branches_[i].backward(dbo[i]), gt = trunks_[i].backward(dto[i]);
    if (i == 0)
      out[0] = std::move(gb);
    else
      out[0].vec() += gb.vec();
    out[1].vec() += gt.vec();  // (P, d) gradient in the (1, P, d) shape of the input
  }
  return out;
}

template <class T>
double DeepOnet<T>::set_pod_basis(const Tensor<T>& training_outputs) {
  NEUROPS_CHECK(config_.pod, type_name() << ": set_pod_basis needs a configuration with pod = true");
  NEUROPS_CHECK(
      training_outputs.rank() == 2 && training_outputs.size(0) >= 2,
      "PODDeepONet: training outputs must be (N >= 2, P) on the shared grid, found " << training_outputs.shape());
  const index_t n = training_outputs.size(0), P = training_outputs.size(1), p = config_.basis();
  NEUROPS_CHECK(p <= P, "PODDeepONet: " << p << " POD modes requested, the grid has only " << P << " points");
  using MatD = Eigen::MatrixXd;
  const MatD y = training_outputs.matrix().template cast<double>();
  const Eigen::RowVectorXd mean = y.colwise().mean();
  const MatD centred = y.rowwise() - mean;
  // Covariance of the outputs over the grid (P x P), as DeepXDE's POD: C = Y^T Y / (N - 1).
  const MatD cov = (centred.transpose() * centred) / double(n - 1);
  Eigen::SelfAdjointEigenSolver<MatD> eig(cov);
  NEUROPS_CHECK(eig.info() == Eigen::Success,
                "PODDeepONet: eigendecomposition of the " << P << " x " << P << " covariance failed");
  const Eigen::VectorXd values = eig.eigenvalues();  // ascending
  config_.pod_points = P;
  pod_basis_.reset({P, p});
  pod_mean_.reset({P});
  pod_basis_.trainable = pod_mean_.trainable = false;
  double kept = 0;
  for (index_t j = 0; j < p; ++j) {
    const index_t col = P - 1 - j;
    const double lambda = std::max(values[col], 0.0);
    kept += lambda;
    pod_basis_.value.matrix().col(j) = (eig.eigenvectors().col(col) * std::sqrt(lambda)).template cast<T>();
  }
  pod_mean_.value.matrix(1, P) = mean.template cast<T>();
  const double total = values.cwiseMax(0.0).sum();
  return total > 0 ? kept / total : 1.0;
}

template <class T>
void DeepOnet<T>::for_each_parameter(const typename nn::ModuleBase<T>::ParameterFn& fn) {
  if (config_.pod) {
    fn("pod_basis", pod_basis_);
    fn("pod_mean", pod_mean_);
  } else {
    fn("bias", bias_);
  }
}

template <class T>
void DeepOnet<T>::for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) {
  fn("branch", branches_);
  if (!config_.pod) fn("trunk", trunks_);
}

template <class T>
void DeepOnet<T>::on_mode_change() {
  branch_out_.clear();
  trunk_out_.clear();
}

// ---- training -----------------------------------------------------------------------------------

template <class T>
Tensor<T> deeponet_predict(DeepOnet<T>& model, const nn::OperatorTriples<T>& data) {
  const bool was_training = model.training();
  model.eval();
  const index_t n = data.size(), chunk = data.cartesian ? 256 : 8192;
  Tensor<T> out = Tensor<T>::uninitialized(data.values.shape());
  const index_t row = data.values.numel() / std::max<index_t>(n, 1);
  for (index_t b = 0; b < n; b += chunk) {
    const index_t e = std::min(n, b + chunk);
    std::vector<index_t> rows;
    for (index_t i = b; i < e; ++i) rows.push_back(i);
    const nn::Batch<T> batch = data.batch(rows);
    const Tensor<T> y = model.forward(nn::Inputs<T>(batch.inputs));
    NEUROPS_CHECK(y.numel() == (e - b) * row,
                  "DeepONet: prediction " << y.shape() << " does not match the data values " << data.values.shape());
    std::memcpy(out.data() + b * row, y.data(), sizeof(T) * static_cast<std::size_t>(y.numel()));
  }
  model.train(was_training);
  return out;
}

template <class T>
double deeponet_mse(DeepOnet<T>& model, const nn::OperatorTriples<T>& data) {
  const Tensor<T> y = deeponet_predict(model, data);
  double s = 0;
  for (index_t i = 0; i < y.numel(); ++i) {
    const double e = double(y[i]) - double(data.values[i]);
    s += e * e;
  }
  return s / double(std::max<index_t>(y.numel(), 1));
}

template <class T>
DeepOnetTrainingReport train_deeponet(DeepOnet<T>& model, const nn::OperatorTriples<T>& train,
                                      const nn::OperatorTriples<T>& test, const DeepOnetTrainingOptions& options) {
  NEUROPS_CHECK(options.iterations >= 1 && options.display_every >= 1,
                "train_deeponet: iterations and display_every must be >= 1, found " << options.iterations << " and "
                                                                                    << options.display_every);
  nn::Adam<T> adam(model, {.lr = options.lr});
  const nn::MseLoss<T> mse;
  nn::TrainerOptions o;
  o.batch_size = options.batch_size <= 0 ? 0 : options.batch_size;
  o.max_steps = options.iterations;
  o.epochs = options.iterations;  // an upper bound: max_steps ends the run
  o.validate_every = options.display_every;
  o.best_by = nn::BestBy::training;
  o.seed = options.seed;
  o.output_dir = options.output_dir;
  o.checkpoint_every = options.output_dir.empty() ? 0 : 1;
  o.eval_batch_size = train.cartesian ? 256 : 8192;
  o.verbose = options.verbose;
  o.comm = options.comm;
  nn::Trainer<T> trainer(model, adam, nullptr, mse, o);
  trainer.set_metric(mse);
  Timer timer;
  const nn::TrainingState& st = trainer.fit(train, test.size() > 0 ? &test : nullptr);
  trainer.restore_best();

  DeepOnetTrainingReport report;
  report.seconds = timer.seconds();
  for (std::size_t i = 0; i < st.points(); ++i) {
    report.steps.push_back(static_cast<std::int64_t>(st.steps[i]));
    report.train_loss.push_back(st.train_metric[i]);
    report.test_loss.push_back(test.size() > 0 ? st.validation_metric[i] : 0.0);
    if (report.steps.back() == st.best_step) {
      report.best_step = st.best_step;
      report.best_train_loss = st.train_metric[i];
      report.best_test_loss = report.test_loss.back();
    }
  }
  return report;
}

template class StackedMlp<float>;
template class StackedMlp<double>;
template class DeepOnet<float>;
template class DeepOnet<double>;
template DeepOnetTrainingReport train_deeponet<float>(DeepOnet<float>&, const nn::OperatorTriples<float>&,
                                                      const nn::OperatorTriples<float>&,
                                                      const DeepOnetTrainingOptions&);
template DeepOnetTrainingReport train_deeponet<double>(DeepOnet<double>&, const nn::OperatorTriples<double>&,
                                                       const nn::OperatorTriples<double>&,
                                                       const DeepOnetTrainingOptions&);
template double deeponet_mse<float>(DeepOnet<float>&, const nn::OperatorTriples<float>&);
template double deeponet_mse<double>(DeepOnet<double>&, const nn::OperatorTriples<double>&);
template Tensor<float> deeponet_predict<float>(DeepOnet<float>&, const nn::OperatorTriples<float>&);
template Tensor<double> deeponet_predict<double>(DeepOnet<double>&, const nn::OperatorTriples<double>&);

}  // namespace neurops::operators
