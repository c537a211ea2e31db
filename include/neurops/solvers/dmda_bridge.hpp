#pragma once
// Fields between a PETSc DMDA and neurops: a Vec on a 2-D or 3-D DMDA (any process grid) becomes a
// Tensor (1, dof, [z,] y, x) — the layout models are trained on, dof as channels — and back; and a
// trained model applied to a DMDA Vec in one call.
//
//   auto model = neurops::load_model<float>("best.h5");          // maps f (1 channel) to u (1 channel)
//   neurops::solvers::apply(model, da, f, u,                      // f, u: global Vecs of `da`
//                           neurops::solvers::DirichletNodes::box(g));  // u = g on the box faces
//
//   neurops::solvers::DmdaBridge bridge(da);                      // reuse the scatter for many fields
//   Tensor<double> t = bridge.to_tensor<double>(v);               // (1, dof, ny, nx) on every rank
//   bridge.from_tensor(t, v);
//
// Ordering: PETSc's natural ordering of a DMDA is (z, y, x, dof), channel last; the Tensor is channel
// first, as in the training data. The gather goes through the natural vector, so the result does not
// depend on how the grid is split over ranks. apply() gathers the input on rank 0, runs the model there
// (its OpenMP threads) and scatters the prediction back: `mpiexec -n 2` gives the same Vec as one rank.
#include <petscdm.h>
#include <petscvec.h>

#include <string>
#include <vector>

#include "neurops/core/petsc.hpp"
#include "neurops/core/tensor.hpp"
#include "neurops/operators/model_io.hpp"

namespace neurops::solvers {

/// What a DMDA looks like to a model.
struct DmdaLayout {
  int dim = 0;
  index_t dof = 0;
  std::vector<index_t> grid;  // the Tensor's spatial axes: (ny, nx) or (nz, ny, nx)
  /// (1, dof, grid...).
  Shape tensor_shape() const;
  /// "2-D DMDA 33 x 33 (y, x) with 1 dof".
  std::string str() const;
};

/// The layout of `dm`; an Error naming `who` unless it is a 2-D or 3-D DMDA.
DmdaLayout dmda_layout(DM dm, const std::string& who = "DMDA bridge");

/// Where a gathered field lives: on every rank, or on rank 0 only (the other ranks get an empty Tensor).
enum class Ranks { all, root };

/// Gathers and scatters fields of one DMDA; keeps its natural vector and scatter for repeated use.
class DmdaBridge {
 public:
  explicit DmdaBridge(DM dm, Ranks where = Ranks::all);
  ~DmdaBridge();
  DmdaBridge(const DmdaBridge&) = delete;
  DmdaBridge& operator=(const DmdaBridge&) = delete;

  /// Collective. The global Vec `v` of the DMDA as a (1, dof, grid...) Tensor, on the ranks `where` says.
  template <class T>
  Tensor<T> to_tensor(Vec v);
  /// Collective. Writes a (1, dof, grid...) or (dof, grid...) Tensor into the global Vec `v`. With
  /// Ranks::all every rank passes the whole field and keeps its own part; with Ranks::root only rank 0's
  /// `t` is read (the other ranks may pass an empty Tensor). A shape that does not fit is an Error.
  template <class T>
  void from_tensor(const Tensor<T>& t, Vec v);

  const DmdaLayout& layout() const noexcept { return layout_; }
  DM dm() const noexcept { return dm_; }
  Ranks ranks() const noexcept { return where_; }

 private:
  bool holds_field() const;  // this rank holds the gathered field
  DM dm_;
  Ranks where_;
  DmdaLayout layout_;
  PetscVec natural_, gathered_;
  VecScatter scatter_ = nullptr;
};

/// One-off forms of DmdaBridge::to_tensor / from_tensor.
template <class T>
Tensor<T> to_tensor(DM dm, Vec v, Ranks where = Ranks::all);
template <class T>
void from_tensor(DM dm, const Tensor<T>& t, Vec v, Ranks from = Ranks::all);

/// Which DMDA nodes carry Dirichlet data, and the data. The caller states it; apply() replaces the
/// prediction there, because a network's boundary values are only approximately right.
struct DirichletNodes {
  enum class Kind { none, box, mask };
  Kind kind = Kind::none;
  Vec mask = nullptr;    // Kind::mask: a global Vec of the output DMDA, nonzero at Dirichlet entries
  Vec values = nullptr;  // the boundary data (a global Vec of the output DMDA); nullptr: zero

  static DirichletNodes none() { return {}; }
  /// Every node on a face of the DMDA box (all components).
  static DirichletNodes box(Vec values = nullptr) { return {Kind::box, nullptr, values}; }
  /// The entries where `mask` is nonzero.
  static DirichletNodes masked(Vec mask, Vec values = nullptr) { return {Kind::mask, mask, values}; }
};

/// Sets the Dirichlet entries of the global Vec `y` of `dm` to the boundary data (local work only).
void impose_dirichlet(DM dm, const DirichletNodes& nodes, Vec y);

/// Error naming the model's file unless the model maps `in` to `out`: channels = dof, as many spatial
/// axes as the DMDA, and (when the checkpoint records it) the training grid equal to the DMDA's grid.
template <class T>
void check_model_fits(const TrainedModel<T>& model, const DmdaLayout& in, const DmdaLayout& out);

/// Collective. y = model(x) on the DMDA `dm` (x and y global Vecs of `dm`), the Dirichlet entries of y
/// replaced by the boundary data. The model runs on rank 0 with its normalizers (TrainedModel::predict).
template <class T>
void apply(TrainedModel<T>& model, DM dm, Vec x, Vec y, const DirichletNodes& nodes = {});
/// The same with separate DMDAs for input and output (a model whose in/out channel counts differ).
template <class T>
void apply(TrainedModel<T>& model, DM dm_in, Vec x, DM dm_out, Vec y, const DirichletNodes& nodes = {});

/// The same through bridges kept by the caller (their scatters are reused; both gather on Ranks::root).
template <class T>
void apply(TrainedModel<T>& model, DmdaBridge& in, Vec x, DmdaBridge& out, Vec y, const DirichletNodes& nodes = {});

}  // namespace neurops::solvers
