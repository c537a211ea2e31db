#pragma once
// Model: an operator a user trains, saves and loads (FNO, MgNO, DeepONet, ...), as opposed to a
// layer (Module, one tensor in, one tensor out).
//
// A model takes one or more inputs and returns one output; backward(dy) returns one gradient per
// input, in the order of the inputs, and accumulates the parameter gradients:
//
//   operators::DeepOnet<float> net(config);
//   Tensor<float> y = net.forward({branch, trunk});          // (N, m), (N, d) -> (N, K)
//   std::vector<Tensor<float>> dx = net.backward(dy);        // {d branch, d trunk}
//
//   operators::Fno<float> fno(fno_config);
//   Tensor<float> u = fno.forward(a);                        // one field: (N, C_in, H, W)
//
// A model also describes itself, so a checkpoint can be turned back into a working object without
// knowing its type in advance (see operators/model_io.hpp): its registered type name, its
// configuration (save_config), its channel counts, and the grid it was trained on.
#include <array>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "neurops/nn/module.hpp"

namespace neurops::nn {

/// The inputs of one model call, by reference: `{x}`, `{branch, trunk}`, or a single tensor.
/// Held in place (at most kMaxInputs), so that a model call allocates nothing for its arguments.
template <class T>
class Inputs {
 public:
  static constexpr std::size_t kMaxInputs = 8;

  Inputs(const Tensor<T>& x) : items_{&x}, size_(1) {}  // NOLINT: one field converts implicitly
  Inputs(std::initializer_list<std::reference_wrapper<const Tensor<T>>> list) {
    for (const auto& r : list) push(&r.get());
  }
  explicit Inputs(const std::vector<Tensor<T>>& list) {
    for (const auto& t : list) push(&t);
  }
  std::size_t size() const noexcept { return size_; }
  const Tensor<T>& operator[](std::size_t i) const {
    NEUROPS_CHECK(i < size_, "model inputs: input " << i << " requested, " << size_ << " given");
    return *items_[i];
  }

 private:
  void push(const Tensor<T>* t) {
    NEUROPS_CHECK(size_ < kMaxInputs, "model inputs: at most " << kMaxInputs << " inputs, found more");
    items_[size_++] = t;
  }
  std::array<const Tensor<T>*, kMaxInputs> items_{};
  std::size_t size_ = 0;
};

template <class T>
class Model : public ModuleBase<T> {
 public:
  /// Names of the inputs, in order ({"x"} for a field operator, {"branch", "trunk"} for DeepONet).
  virtual std::vector<std::string> input_names() const = 0;
  std::size_t input_count() const { return input_names().size(); }

  virtual Tensor<T> forward(const Inputs<T>& inputs) = 0;
  /// One gradient per input; parameter gradients accumulate. Needs a forward() in training mode.
  virtual std::vector<Tensor<T>> backward(const Tensor<T>& dy) = 0;
  Tensor<T> operator()(const Inputs<T>& inputs) { return forward(inputs); }

  /// Channels of the first input and of the output (sensors and outputs for DeepONet).
  virtual index_t in_channels() const = 0;
  virtual index_t out_channels() const = 0;
  /// Writes the configuration that the registered factory of type_name() reads back.
  virtual void save_config(io::H5File& file, const std::string& group) const = 0;

  /// The spatial grid of the training data (empty when unknown); recorded by the Trainer.
  const std::vector<index_t>& training_grid() const noexcept { return training_grid_; }
  void set_training_grid(std::vector<index_t> grid) { training_grid_ = std::move(grid); }

 protected:
  /// Error unless exactly input_count() inputs are given, naming the model and its inputs.
  void check_input_count(const Inputs<T>& inputs) const;

 private:
  std::vector<index_t> training_grid_;
};

/// A model of one field: (N, C_in, grid...) -> (N, C_out, grid...). Derived classes implement
/// forward_field/backward_field.
template <class T>
class FieldModel : public Model<T> {
 public:
  std::vector<std::string> input_names() const override { return {"x"}; }
  Tensor<T> forward(const Inputs<T>& inputs) final {
    this->check_input_count(inputs);
    return forward_field(inputs[0]);
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) final {
    std::vector<Tensor<T>> dx;
    dx.push_back(backward_field(dy));
    return dx;
  }

 protected:
  virtual Tensor<T> forward_field(const Tensor<T>& x) = 0;
  virtual Tensor<T> backward_field(const Tensor<T>& dy) = 0;
};

extern template class Model<float>;
extern template class Model<double>;

}  // namespace neurops::nn
