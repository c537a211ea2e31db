#pragma once
// Module: the building block of every network in neurops.
//
// Conventions (DESIGN.md, "Core conventions"):
//  * forward(x) -> y caches what backward needs only in training mode; backward(dy) -> dx returns
//    the input gradient and ACCUMULATES parameter gradients (zero_grad() clears them).
//  * Parameters have hierarchical names built from the module tree ("blocks.2.spectral.weight").
//    Complex weights are stored as real pairs (trailing axis of extent 2) and flagged `complex`.
//  * Each parameter has a trainable flag (freeze/unfreeze); optimizers skip frozen ones.
//  * Layers keep their parameters and sub-modules as members, so the implicit copy constructor is a
//    deep copy; clone() returns one through the base pointer.
//
// A layer implements forward/backward/type_name and lists what it owns:
//   void for_each_parameter(const ParameterFn& fn) override { fn("weight", weight_); fn("bias", bias_); }
//   void for_each_child(const ChildFn& fn) override { fn("spectral", spectral_); }
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "neurops/core/tensor.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::nn {

/// Error raised inside a module tree; containers prepend their child names, so the message names the
/// full module path: "blocks.2.spectral (SpectralConv2d): input has 16 channels, expected 32".
class ModuleError : public Error {
 public:
  ModuleError(const Error& inner, std::string path, std::string type);
  const std::string& path() const noexcept { return path_; }
  const std::string& module_type() const noexcept { return type_; }
  const std::string& inner_message() const noexcept { return inner_; }

 private:
  std::string path_, type_, inner_;
};

/// Calls f(); a neurops::Error escaping from it is rethrown as a ModuleError whose path starts with
/// `child` (the local name of the module that f() runs).
template <class F>
decltype(auto) with_module_path(const std::string& child, const std::string& type, F&& f);

template <class T>
struct Parameter {
  Tensor<T> value;
  Tensor<T> grad;
  bool trainable = true;
  bool complex = false;  // value holds complex numbers as (re, im) pairs along the last axis

  Parameter() = default;
  explicit Parameter(Tensor<T> v, bool is_complex = false)
      : value(std::move(v)), grad(value.shape()), complex(is_complex) {}
  index_t numel() const { return value.numel(); }
  /// Makes value/grad of the given shape (zero), e.g. when a layer is configured after construction.
  void reset(const Shape& s, bool is_complex = false) {
    value = Tensor<T>(s);
    grad = Tensor<T>(s);
    complex = is_complex;
  }
};

template <class T>
struct NamedParameter {
  std::string name;
  Parameter<T>* param;
};

/// The parameter tree shared by layers and models: named parameters, sub-modules, train/eval mode,
/// freezing and HDF5 save/load. It has no forward(): a layer (Module, one tensor in, one out) and a
/// model (Model in model.hpp, several inputs, one gradient per input) each add their own.
template <class T>
class ModuleBase {
 public:
  using ParameterFn = std::function<void(const std::string&, Parameter<T>&)>;
  using ChildFn = std::function<void(const std::string&, ModuleBase<T>&)>;

  ModuleBase() = default;
  ModuleBase(const ModuleBase&) = default;
  ModuleBase& operator=(const ModuleBase&) = default;
  virtual ~ModuleBase() = default;

  virtual std::string type_name() const = 0;
  /// Parameters this module owns directly (not those of its children).
  virtual void for_each_parameter(const ParameterFn&) {}
  /// Direct sub-modules, with their local names.
  virtual void for_each_child(const ChildFn&) {}

  /// Every parameter of the tree with its full dotted name, depth first in declaration order.
  std::vector<NamedParameter<T>> named_parameters(const std::string& prefix = "");
  /// Parameter by full name; Error naming the module type and the closest names when absent.
  Parameter<T>& parameter(const std::string& name);
  index_t parameter_count(bool trainable_only = false);
  void zero_grad();
  /// Training mode (forward caches activations) or evaluation mode (no caches), recursively.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const noexcept { return training_; }
  /// Freezes or unfreezes every parameter of this module and its children.
  void set_trainable(bool on);
  /// Sub-module by dotted path ("blocks.3"); Error if absent.
  ModuleBase<T>& submodule(const std::string& path);

  /// Writes every parameter as a dataset "<group>/<dotted name>" (plus a "trainable" attribute).
  void save_parameters(io::H5File& file, const std::string& group = "/parameters");
  /// Reads parameters written by save_parameters into this module. Every parameter must be present
  /// with the same shape; otherwise an Error names the parameter, the file, and the expected and
  /// found shapes (or the unexpected names). Parameters stored in the other precision are converted.
  void load_parameters(const io::H5File& file, const std::string& group = "/parameters");

 protected:
  /// Called by train(); layers drop their caches here when switching to evaluation.
  virtual void on_mode_change() {}
  /// Error unless forward() ran in training mode before backward(); names the layer.
  void require_cache(bool have_cache) const;

 private:
  bool training_ = true;
};

/// A layer: one tensor in, one tensor out.
template <class T>
class Module : public ModuleBase<T> {
 public:
  virtual Tensor<T> forward(const Tensor<T>& x) = 0;
  virtual Tensor<T> backward(const Tensor<T>& dy) = 0;
  virtual std::unique_ptr<Module<T>> clone() const = 0;
  Tensor<T> operator()(const Tensor<T>& x) { return forward(x); }
};

/// Helper base that implements clone() through the derived class's copy constructor.
template <class Derived, class T>
class ModuleImpl : public Module<T> {
 public:
  std::unique_ptr<Module<T>> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

/// Runs modules one after the other; children are named "0", "1", ...
template <class T>
class Sequential : public Module<T> {
 public:
  Sequential() = default;
  Sequential(const Sequential& o);
  Sequential& operator=(const Sequential& o);
  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;

  template <class M, class... Args>
  M& emplace(Args&&... args) {
    auto m = std::make_unique<M>(std::forward<Args>(args)...);
    M& ref = *m;
    layers_.push_back(std::move(m));
    return ref;
  }
  Sequential& push_back(std::unique_ptr<Module<T>> m);
  std::size_t size() const noexcept { return layers_.size(); }
  Module<T>& operator[](std::size_t i) { return *layers_.at(i); }

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::unique_ptr<Module<T>> clone() const override { return std::make_unique<Sequential>(*this); }
  std::string type_name() const override { return "Sequential"; }
  void for_each_child(const typename ModuleBase<T>::ChildFn& fn) override;

 private:
  std::vector<std::unique_ptr<Module<T>>> layers_;
};

/// y = x + inner(x) (or y = skip(x) + inner(x) with a projection on the skip path).
template <class T>
class Residual : public Module<T> {
 public:
  explicit Residual(std::unique_ptr<Module<T>> inner, std::unique_ptr<Module<T>> skip = nullptr);
  Residual(const Residual& o);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::unique_ptr<Module<T>> clone() const override { return std::make_unique<Residual>(*this); }
  std::string type_name() const override { return "Residual"; }
  void for_each_child(const typename ModuleBase<T>::ChildFn& fn) override;

 private:
  std::unique_ptr<Module<T>> inner_, skip_;
};

/// A list of layers that the owner calls itself (e.g. the branch nets of a DeepONet); children are
/// named "0", "1", ... The list has no forward(): it only holds and names its items.
template <class T>
class ModuleList : public ModuleBase<T> {
 public:
  ModuleList() = default;
  ModuleList(const ModuleList& o);
  ModuleList(ModuleList&&) noexcept = default;
  ModuleList& operator=(ModuleList&&) noexcept = default;
  ModuleList& push_back(std::unique_ptr<Module<T>> m);
  std::size_t size() const noexcept { return items_.size(); }
  Module<T>& operator[](std::size_t i) { return *items_.at(i); }
  std::string type_name() const override { return "ModuleList"; }
  void for_each_child(const typename ModuleBase<T>::ChildFn& fn) override;

 private:
  std::vector<std::unique_ptr<Module<T>>> items_;
};

template <class F>
decltype(auto) with_module_path(const std::string& child, const std::string& type, F&& f) {
  try {
    return f();
  } catch (const ModuleError& e) {
    throw ModuleError(e, child + "." + e.path(), e.module_type());
  } catch (const Error& e) {
    throw ModuleError(e, child, type);
  }
}

extern template class ModuleBase<float>;
extern template class ModuleBase<double>;
extern template class Sequential<float>;
extern template class Sequential<double>;
extern template class Residual<float>;
extern template class Residual<double>;
extern template class ModuleList<float>;
extern template class ModuleList<double>;

}  // namespace neurops::nn
