#include "neurops/nn/module.hpp"

#include <algorithm>

#include "neurops/io/hdf5.hpp"

namespace neurops::nn {

ModuleError::ModuleError(const Error& inner, std::string path, std::string type)
    : Error(inner.file().c_str(), inner.line(),
            path + " (" + type + "): " +
                (dynamic_cast<const ModuleError*>(&inner) ? static_cast<const ModuleError&>(inner).inner_message()
                                                          : inner.message())),
      path_(std::move(path)),
      type_(std::move(type)),
      inner_(dynamic_cast<const ModuleError*>(&inner) ? static_cast<const ModuleError&>(inner).inner_message()
                                                      : inner.message()) {}

namespace {
template <class T>
void collect(ModuleBase<T>& m, const std::string& prefix, std::vector<NamedParameter<T>>& out) {
  m.for_each_parameter([&](const std::string& name, Parameter<T>& p) { out.push_back({prefix + name, &p}); });
  m.for_each_child([&](const std::string& name, ModuleBase<T>& c) { collect(c, prefix + name + ".", out); });
}
}  // namespace

template <class T>
std::vector<NamedParameter<T>> ModuleBase<T>::named_parameters(const std::string& prefix) {
  std::vector<NamedParameter<T>> out;
  collect(*this, prefix.empty() ? prefix : prefix + ".", out);
  return out;
}

template <class T>
Parameter<T>& ModuleBase<T>::parameter(const std::string& name) {
  auto all = named_parameters();
  for (auto& p : all)
    if (p.name == name) return *p.param;
  std::string known;
  for (std::size_t i = 0; i < all.size() && i < 12; ++i) known += (i ? ", " : "") + all[i].name;
  if (all.size() > 12) known += ", ...";
  NEUROPS_THROW(type_name() << " has no parameter '" << name << "' (it has: " << (known.empty() ? "none" : known)
                            << ")");
}

template <class T>
index_t ModuleBase<T>::parameter_count(bool trainable_only) {
  index_t n = 0;
  for (auto& p : named_parameters())
    if (!trainable_only || p.param->trainable) n += p.param->numel();
  return n;
}

template <class T>
void ModuleBase<T>::zero_grad() {
  for (auto& p : named_parameters()) p.param->grad.zero();
}

template <class T>
void ModuleBase<T>::train(bool on) {
  if (training_ != on) {  // caches are dropped only on a real change of mode
    training_ = on;
    on_mode_change();
  }
  for_each_child([on](const std::string&, ModuleBase<T>& c) { c.train(on); });
}

template <class T>
void ModuleBase<T>::set_trainable(bool on) {
  for (auto& p : named_parameters()) p.param->trainable = on;
}

template <class T>
ModuleBase<T>& ModuleBase<T>::submodule(const std::string& path) {
  // Child names may themselves contain dots ("blocks.2"): match the longest child name that is a
  // prefix of the remaining path at a dot boundary.
  ModuleBase<T>* cur = this;
  std::string rest = path;
  while (!rest.empty()) {
    ModuleBase<T>* next = nullptr;
    std::size_t used = 0;
    cur->for_each_child([&](const std::string& n, ModuleBase<T>& c) {
      if ((rest == n || rest.rfind(n + ".", 0) == 0) && n.size() > used) {
        next = &c;
        used = n.size();
      }
    });
    NEUROPS_CHECK(next, cur->type_name() << " has no sub-module '" << rest << "' (looking up '" << path << "')");
    cur = next;
    rest = used < rest.size() ? rest.substr(used + 1) : std::string();
  }
  return *cur;
}

template <class T>
void ModuleBase<T>::save_parameters(io::H5File& file, const std::string& group) {
  for (auto& p : named_parameters()) {
    const std::string ds = group + "/" + p.name;
    file.write(ds, p.param->value, true);
    file.set_attr(ds, "trainable", std::int64_t(p.param->trainable));
    file.set_attr(ds, "complex", std::int64_t(p.param->complex));
  }
}

template <class T>
void ModuleBase<T>::load_parameters(const io::H5File& file, const std::string& group) {
  NEUROPS_CHECK(file.exists(group), "'" << file.path().string() << "' has no parameter group '" << group << "'");
  auto params = named_parameters();
  std::vector<std::string> expected;
  for (auto& p : params) {
    const std::string ds = group + "/" + p.name;
    expected.push_back(ds);
    NEUROPS_CHECK(file.is_dataset(ds), "'" << file.path().string() << "': parameter '" << p.name << "' of "
                                           << type_name() << " is missing (looked for dataset " << ds << ")");
    const Shape found = file.shape(ds);
    NEUROPS_CHECK(found == p.param->value.shape(), "'" << file.path().string() << "': parameter '" << p.name
                                                       << "' has shape " << found << ", the model expects "
                                                       << p.param->value.shape());
  }
  for (const auto& ds : file.datasets(group))
    NEUROPS_CHECK(std::find(expected.begin(), expected.end(), ds) != expected.end(),
                  "'" << file.path().string() << "': dataset " << ds << " is not a parameter of this " << type_name()
                      << " (different model configuration?)");
  for (auto& p : params) {
    const std::string ds = group + "/" + p.name;
    p.param->value = file.read<T>(ds);
    if (file.has_attr(ds, "trainable")) p.param->trainable = file.attr_int(ds, "trainable") != 0;
  }
}

template <class T>
void ModuleBase<T>::require_cache(bool have_cache) const {
  NEUROPS_CHECK(have_cache, type_name() << ": backward() needs a forward() in training mode first");
}

// ---- Sequential -------------------------------------------------------------------------------

template <class T>
Sequential<T>::Sequential(const Sequential& o) : Module<T>(o) {
  for (const auto& l : o.layers_) layers_.push_back(l->clone());
}
template <class T>
Sequential<T>& Sequential<T>::operator=(const Sequential& o) {
  if (this != &o) {
    Module<T>::operator=(o);
    layers_.clear();
    for (const auto& l : o.layers_) layers_.push_back(l->clone());
  }
  return *this;
}
template <class T>
Sequential<T>& Sequential<T>::push_back(std::unique_ptr<Module<T>> m) {
  NEUROPS_CHECK(m, "Sequential::push_back: null module");
  layers_.push_back(std::move(m));
  return *this;
}
template <class T>
Tensor<T> Sequential<T>::forward(const Tensor<T>& x) {
  if (layers_.empty()) return x;
  Tensor<T> y = with_module_path("0", layers_[0]->type_name(), [&] { return layers_[0]->forward(x); });
  for (std::size_t i = 1; i < layers_.size(); ++i)
    y = with_module_path(std::to_string(i), layers_[i]->type_name(), [&] { return layers_[i]->forward(y); });
  return y;
}
template <class T>
Tensor<T> Sequential<T>::backward(const Tensor<T>& dy) {
  if (layers_.empty()) return dy;
  const std::size_t last = layers_.size() - 1;
  Tensor<T> g =
      with_module_path(std::to_string(last), layers_[last]->type_name(), [&] { return layers_[last]->backward(dy); });
  for (std::size_t i = last; i-- > 0;)
    g = with_module_path(std::to_string(i), layers_[i]->type_name(), [&] { return layers_[i]->backward(g); });
  return g;
}
template <class T>
void Sequential<T>::for_each_child(const typename ModuleBase<T>::ChildFn& fn) {
  for (std::size_t i = 0; i < layers_.size(); ++i) fn(std::to_string(i), *layers_[i]);
}

// ---- Residual ---------------------------------------------------------------------------------

template <class T>
Residual<T>::Residual(std::unique_ptr<Module<T>> inner, std::unique_ptr<Module<T>> skip)
    : inner_(std::move(inner)), skip_(std::move(skip)) {
  NEUROPS_CHECK(inner_, "Residual: null inner module");
}
template <class T>
Residual<T>::Residual(const Residual& o)
    : Module<T>(o), inner_(o.inner_->clone()), skip_(o.skip_ ? o.skip_->clone() : nullptr) {}
template <class T>
Tensor<T> Residual<T>::forward(const Tensor<T>& x) {
  Tensor<T> y = with_module_path("inner", inner_->type_name(), [&] { return inner_->forward(x); });
  if (skip_) {
    const Tensor<T> s = with_module_path("skip", skip_->type_name(), [&] { return skip_->forward(x); });
    NEUROPS_CHECK(s.shape() == y.shape(), "Residual: skip path gives " << s.shape() << ", inner path " << y.shape());
    y.vec() += s.vec();
  } else {
    NEUROPS_CHECK(x.shape() == y.shape(), "Residual: input " << x.shape() << " and inner output " << y.shape()
                                                             << " differ; add a skip projection");
    y.vec() += x.vec();
  }
  return y;
}
template <class T>
Tensor<T> Residual<T>::backward(const Tensor<T>& dy) {
  Tensor<T> dx = with_module_path("inner", inner_->type_name(), [&] { return inner_->backward(dy); });
  if (skip_)
    dx.vec() += with_module_path("skip", skip_->type_name(), [&] { return skip_->backward(dy); }).vec();
  else
    dx.vec() += dy.vec();
  return dx;
}
template <class T>
void Residual<T>::for_each_child(const typename ModuleBase<T>::ChildFn& fn) {
  fn("inner", *inner_);
  if (skip_) fn("skip", *skip_);
}

// ---- ModuleList -------------------------------------------------------------------------------

template <class T>
ModuleList<T>::ModuleList(const ModuleList& o) : ModuleBase<T>(o) {
  for (const auto& m : o.items_) items_.push_back(m->clone());
}
template <class T>
ModuleList<T>& ModuleList<T>::push_back(std::unique_ptr<Module<T>> m) {
  NEUROPS_CHECK(m, "ModuleList::push_back: null module");
  items_.push_back(std::move(m));
  return *this;
}
template <class T>
void ModuleList<T>::for_each_child(const typename ModuleBase<T>::ChildFn& fn) {
  for (std::size_t i = 0; i < items_.size(); ++i) fn(std::to_string(i), *items_[i]);
}

template class ModuleBase<float>;
template class ModuleBase<double>;
template class Sequential<float>;
template class Sequential<double>;
template class Residual<float>;
template class Residual<double>;
template class ModuleList<float>;
template class ModuleList<double>;

}  // namespace neurops::nn
