#include "neurops/nn/model.hpp"

#include "neurops/core/strings.hpp"

namespace neurops::nn {

template <class T>
void Model<T>::check_input_count(const Inputs<T>& inputs) const {
  const auto names = input_names();
  NEUROPS_CHECK(inputs.size() == names.size(), this->type_name() << ": expected " << names.size() << " input"
                                                                 << (names.size() == 1 ? "" : "s") << " ("
                                                                 << join(names, ", ") << "), found " << inputs.size());
}

template class Model<float>;
template class Model<double>;

}  // namespace neurops::nn
