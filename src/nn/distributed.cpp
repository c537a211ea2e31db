#include "neurops/nn/distributed.hpp"

#include <cstring>
#include <vector>

namespace neurops::nn {

namespace {
template <class T>
MPI_Datatype mpi_type() {
  return std::is_same_v<T, float> ? MPI_FLOAT : MPI_DOUBLE;
}
void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  NEUROPS_THROW(what << " failed: " << std::string(text, static_cast<std::size_t>(len)));
}
}  // namespace

template <class T>
void allreduce_gradients(ModuleBase<T>& module, MPI_Comm comm, index_t local_samples, index_t global_samples) {
  NEUROPS_CHECK(global_samples > 0 && local_samples >= 0 && local_samples <= global_samples,
                "allreduce_gradients: " << local_samples << " local of " << global_samples << " global samples");
  int size = 1;
  MPI_Comm_size(comm, &size);
  auto params = module.named_parameters();
  const T weight = static_cast<T>(double(local_samples) / double(global_samples));
  if (size == 1) {
    if (local_samples != global_samples)
      for (auto& p : params)
        if (p.param->trainable) p.param->grad.vec() *= weight;
    return;
  }
  index_t total = 0;
  for (auto& p : params)
    if (p.param->trainable) total += p.param->numel();
  thread_local std::vector<T> buffer;  // reused across steps: no allocation per step
  buffer.resize(static_cast<std::size_t>(total));
  index_t off = 0;
  for (auto& p : params) {
    if (!p.param->trainable) continue;
    const T* g = p.param->grad.data();
    for (index_t i = 0; i < p.param->numel(); ++i) buffer[static_cast<std::size_t>(off + i)] = g[i] * weight;
    off += p.param->numel();
  }
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(total), mpi_type<T>(), MPI_SUM, comm),
            "MPI_Allreduce of the gradients");
  off = 0;
  for (auto& p : params) {
    if (!p.param->trainable) continue;
    std::memcpy(p.param->grad.data(), buffer.data() + off, sizeof(T) * static_cast<std::size_t>(p.param->numel()));
    off += p.param->numel();
  }
}

template <class T>
void broadcast_parameters(ModuleBase<T>& module, MPI_Comm comm, int root) {
  for (auto& p : module.named_parameters())
    check_mpi(MPI_Bcast(p.param->value.data(), static_cast<int>(p.param->numel()), mpi_type<T>(), root, comm),
              "MPI_Bcast of the parameters");
}

double allreduce_sum(double value, MPI_Comm comm) {
  double out = 0;
  check_mpi(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_SUM, comm), "MPI_Allreduce");
  return out;
}

template void allreduce_gradients<float>(ModuleBase<float>&, MPI_Comm, index_t, index_t);
template void allreduce_gradients<double>(ModuleBase<double>&, MPI_Comm, index_t, index_t);
template void broadcast_parameters<float>(ModuleBase<float>&, MPI_Comm, int);
template void broadcast_parameters<double>(ModuleBase<double>&, MPI_Comm, int);

}  // namespace neurops::nn
