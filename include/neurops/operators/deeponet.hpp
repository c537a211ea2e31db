#pragma once
// DeepONet (Lu et al., Nat. Mach. Intell. 2021) as DeepXDE defines it (deepxde/nn/pytorch/deeponet.py,
// tensorflow_compat_v1/deeponet.py, deeponet_strategy.py):
//
//   G(u)(y)_k = sum_i b_{g(k), i}(u(x_1), ..., u(x_m)) t_{h(k), i}(y) + b0_k
//
// * branch net: an MLP of the m sensor values whose LAST layer is linear; "unstacked" is one MLP
//   with a width-p output, "stacked" is p independent scalar-output MLPs (stored as 3-D weights);
// * trunk net: an MLP of the query point y (d coordinates) with the activation applied after EVERY
//   layer, the last included;
// * b0: one scalar bias per output; Glorot-normal weights and zero biases (DeepXDE's initialiser).
//
// Several outputs (DeepXDE's multi-output strategies, K outputs, p basis functions per output):
//   independent   K separate branch/trunk pairs, each with width p
//   split_both    one branch and one trunk of width K p, both split into K groups of p
//   split_branch  branch of width K p split into K groups, one shared trunk of width p
//   split_trunk   one shared branch of width p, trunk of width K p split into K groups
//
// A model of two inputs, branch and trunk, in two layouts (data.hpp, OperatorTriples):
//   triples    branch (N, m), trunk (N, d) -> (N, K): one query point per row
//   Cartesian  branch (N, m), trunk (1, P, d) -> (N, P) or (N, P, K): the P query points are shared by
//              the batch, so each net runs once per distinct input and the output is one GEMM B T^T
// backward(dy) returns {d branch, d trunk} in the shapes of the inputs.
//
//   operators::DeepOnetConfig c;                 // branch {100, 40, 40}, trunk {1, 40, 40}
//   operators::DeepOnet<float> net(c);
//   Tensor<float> g = net.forward({u, y});       // u (N, 100) sensor values, y (N, 1) query points
//   Tensor<float> G = net.forward({u, grid});    // grid (1, P, 1): every function at every point
//
// POD-DeepONet (Lu et al. 2022; DeepXDE PODDeepONet): the trunk is replaced by the leading p POD modes
// of the training outputs on the shared grid (eigenvectors of their covariance from Eigen's
// self-adjoint eigensolver, scaled by sqrt(eigenvalue)), kept as frozen parameters with the mean:
//   G(u) = mean + (1/p) sum_i b_i(u) phi_i          (Cartesian form only, one output; the trunk
//   input only fixes P, and its gradient is zero).
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "neurops/nn/activation.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/linear.hpp"
#include "neurops/nn/model.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::operators {

enum class MultiOutputStrategy { independent, split_both, split_branch, split_trunk };
std::string to_string(MultiOutputStrategy s);
MultiOutputStrategy multi_output_strategy_from_string(const std::string& name);

struct DeepOnetConfig {
  std::vector<index_t> branch_layers{100, 40, 40};  // {m, hidden..., p} (p: basis functions per output)
  std::vector<index_t> trunk_layers{1, 40, 40};     // {d, hidden..., p}; ignored (except d) with pod
  nn::ActivationKind branch_activation = nn::ActivationKind::ReLU;
  nn::ActivationKind trunk_activation = nn::ActivationKind::ReLU;
  bool stacked = false;  // p scalar branch nets instead of one width-p net
  index_t outputs = 1;   // K
  MultiOutputStrategy strategy = MultiOutputStrategy::independent;
  bool pod = false;        // trunk = POD basis (set_pod_basis), Cartesian form only
  index_t pod_points = 0;  // grid points of the POD basis (set by set_pod_basis)
  std::uint64_t seed = 0;

  index_t sensors() const { return branch_layers.front(); }
  index_t coordinates() const { return trunk_layers.front(); }
  index_t basis() const { return branch_layers.back(); }
  void validate() const;
  void save(io::H5File& file, const std::string& group) const;
  /// Error when the group holds no DeepONet configuration, naming the file and the model found.
  static DeepOnetConfig load(const io::H5File& file, const std::string& group);
  /// Reads `-<prefix>branch`, `-<prefix>trunk`, ... from the options database over the current values.
  void set_from_options(const std::string& prefix = "deeponet_");
  bool operator==(const DeepOnetConfig& o) const;
};

/// p independent MLPs {in, hidden..., 1} evaluated together: x (N, in) -> (N, p). Weights of layer j
/// are (p, out_j, in_j), biases (p, out_j); the activation follows every layer but the last.
template <class T>
class StackedMlp : public nn::ModuleImpl<StackedMlp<T>, T> {
 public:
  StackedMlp(index_t stack, const std::vector<index_t>& widths, nn::ActivationKind activation, Rng& rng);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "StackedMLP"; }
  void for_each_parameter(const typename nn::ModuleBase<T>::ParameterFn& fn) override;

 protected:
  void on_mode_change() override { activations_.clear(); }

 private:
  index_t stack_;
  std::vector<index_t> widths_;
  nn::ActivationKind activation_;
  std::vector<nn::Parameter<T>> weights_, biases_;
  std::vector<Tensor<T>> activations_;  // per layer input (stack, N, w) and pre-activations, training mode
  index_t batch_ = 0;
};

template <class T>
class DeepOnet : public nn::Model<T> {
 public:
  explicit DeepOnet(DeepOnetConfig config);

  std::vector<std::string> input_names() const override { return {"branch", "trunk"}; }
  /// Triples: branch (N, m), trunk (N, d) -> (N, K). Cartesian product: branch (N, m),
  /// trunk (1, P, d) -> (N, P) for one output, (N, P, K) otherwise.
  Tensor<T> forward(const nn::Inputs<T>& inputs) override;
  /// {d branch, d trunk} of the last forward (training mode); parameter gradients accumulate.
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override;

  /// POD-DeepONet: fits the basis on training outputs (N, P) on the shared grid; keeps the leading
  /// p = basis() modes. Returns the fraction of the variance they capture.
  double set_pod_basis(const Tensor<T>& training_outputs);

  std::string type_name() const override;
  void for_each_parameter(const typename nn::ModuleBase<T>::ParameterFn& fn) override;
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;
  const DeepOnetConfig& config() const noexcept { return config_; }
  index_t in_channels() const override { return config_.sensors(); }
  index_t out_channels() const override { return config_.outputs; }
  void save_config(io::H5File& file, const std::string& group) const override { config_.save(file, group); }

 protected:
  void on_mode_change() override;

 private:
  Tensor<T> forward_triples(const Tensor<T>& branch, const Tensor<T>& trunk);
  Tensor<T> forward_cartesian(const Tensor<T>& branch, const Tensor<T>& trunk);  // trunk (P, d)
  std::vector<Tensor<T>> backward_triples(const Tensor<T>& dy);
  std::vector<Tensor<T>> backward_cartesian(const Tensor<T>& dy);
  index_t pairs() const;  // branch/trunk net pairs: K (independent) or 1
  void check_branch(const Tensor<T>& branch) const;
  void check_trunk(const Tensor<T>& trunk, const std::string& form) const;
  Tensor<T> run_branch(std::size_t i, const Tensor<T>& branch);
  Tensor<T> run_trunk(std::size_t i, const Tensor<T>& trunk);
  // Column offsets of output k's basis functions in branch/trunk outputs of pair net(k).
  std::size_t net(index_t k) const;
  index_t branch_offset(index_t k) const;
  index_t trunk_offset(index_t k) const;

  DeepOnetConfig config_;
  nn::ModuleList<T> branches_, trunks_;
  nn::Parameter<T> bias_;                  // (K): b0 per output
  nn::Parameter<T> pod_basis_, pod_mean_;  // (P, p) and (P), frozen
  // Caches (training mode): net outputs per pair, which form ran, and the trunk input's shape.
  std::vector<Tensor<T>> branch_out_, trunk_out_;
  bool cartesian_ = false;
  Shape trunk_shape_;
};

/// DeepXDE's training recipe (Adam, MSE, mini-batches or the full batch) as a configuration of
/// nn::Trainer: every `display_every` iterations the training and test losses are recorded; the
/// parameters with the lowest training loss (DeepXDE's best_step) are restored at the end. With
/// `output_dir` set, the Trainer's logs, checkpoint.h5 and best.h5 (loadable by load_model) go there.
struct DeepOnetTrainingOptions {
  std::int64_t iterations = 10000;
  double lr = 1e-3;
  index_t batch_size = 0;  // 0: full batch
  std::int64_t display_every = 1000;
  std::uint64_t seed = 0;
  std::filesystem::path output_dir;
  bool verbose = true;
  MPI_Comm comm = MPI_COMM_NULL;  // data-parallel training over these ranks (null: this process)
};

struct DeepOnetTrainingReport {
  std::vector<std::int64_t> steps;
  std::vector<double> train_loss, test_loss;
  std::int64_t best_step = -1;
  double best_train_loss = 0, best_test_loss = 0;
  double seconds = 0;
};

template <class T>
DeepOnetTrainingReport train_deeponet(DeepOnet<T>& model, const nn::OperatorTriples<T>& train,
                                      const nn::OperatorTriples<T>& test, const DeepOnetTrainingOptions& options);

/// Mean squared error of the model over a data set (triples or Cartesian), evaluated in batches.
template <class T>
double deeponet_mse(DeepOnet<T>& model, const nn::OperatorTriples<T>& data);
/// Predictions of the model for a data set, in its layout: (N, K) or (N, P[, K]).
template <class T>
Tensor<T> deeponet_predict(DeepOnet<T>& model, const nn::OperatorTriples<T>& data);

extern template class StackedMlp<float>;
extern template class StackedMlp<double>;
extern template class DeepOnet<float>;
extern template class DeepOnet<double>;

}  // namespace neurops::operators
