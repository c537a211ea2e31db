#pragma once
// Sample-parallel generation of one chunk of independent samples (neurops_generate, and the Darcy
// throughput benchmark, which measures what the generator does): rank r of `comm` makes the rows
// r, r + size, ... and the owners send them to rank 0, which then holds the chunk exactly as one rank
// would have made it (a sample depends on its index alone).
#include <mpi.h>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "neurops/core/error.hpp"
#include "neurops/core/tensor.hpp"

namespace neurops::examples {

/// Calls generate(index, row, rows) for this rank's rows of the chunk of `count` samples from `first`
/// (rows: one tensor per dataset, shape (count, sample...)) and gathers every row on rank 0. A failure
/// on any rank is an error on every rank, with the lowest failing rank's message.
template <class Generate>
void generate_across_ranks(Generate&& generate, index_t first, index_t count, std::vector<Tensor<double>>& rows,
                           MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  std::string error;
  try {
    for (index_t r = rank; r < count; r += size) generate(first + r, r, rows);
  } catch (const std::exception& e) {
    error = "rank " + std::to_string(rank) + ": " + e.what();
  }
  // The lowest failing rank's message reaches everyone.
  const int failing = error.empty() ? size : rank;
  int lowest = size;
  MPI_Allreduce(&failing, &lowest, 1, MPI_INT, MPI_MIN, comm);
  if (lowest < size) {
    std::int64_t length = std::int64_t(error.size());
    MPI_Bcast(&length, 1, MPI_INT64_T, lowest, comm);
    error.resize(std::size_t(length));
    MPI_Bcast(error.data(), int(length), MPI_CHAR, lowest, comm);
    NEUROPS_THROW(error);
  }
  for (index_t r = 0; r < count; ++r) {
    const int owner = int(r % size);
    if (owner == 0) continue;
    for (auto& t : rows) {
      const index_t per_row = t.shape().tail_numel(1);
      double* row = t.data() + r * per_row;
      if (rank == owner)
        MPI_Send(row, int(per_row), MPI_DOUBLE, 0, 0, comm);
      else if (rank == 0)
        MPI_Recv(row, int(per_row), MPI_DOUBLE, owner, 0, comm, MPI_STATUS_IGNORE);
    }
  }
}

}  // namespace neurops::examples
