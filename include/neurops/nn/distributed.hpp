#pragma once
// Data-parallel training over MPI: every rank takes its share of each batch (rank_share in
// data.hpp), computes the gradient of its local mean loss, and one fused MPI_Allreduce over all
// trainable gradients, packed into a single buffer, turns them into the gradient of the global mean.
#include <mpi.h>

#include "neurops/nn/module.hpp"

namespace neurops::nn {

/// Replaces each trainable gradient g_r (of the mean loss over this rank's `local_samples`) by
/// sum_r g_r * local_samples_r / global_samples — the gradient of the mean over the global batch.
/// One MPI_Allreduce on a packed buffer; a no-op copy on one rank.
template <class T>
void allreduce_gradients(ModuleBase<T>& module, MPI_Comm comm, index_t local_samples, index_t global_samples);

/// Copies every parameter from `root` to all ranks (identical start on every rank).
template <class T>
void broadcast_parameters(ModuleBase<T>& module, MPI_Comm comm, int root = 0);

/// Sum of a scalar over the ranks of `comm`.
double allreduce_sum(double value, MPI_Comm comm);

}  // namespace neurops::nn
