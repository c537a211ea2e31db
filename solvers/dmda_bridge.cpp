// Fields between a DMDA Vec and a Tensor, and a trained model applied to a DMDA Vec (dmda_bridge.hpp).
#include "neurops/solvers/dmda_bridge.hpp"

#include <petscdmda.h>

#include <sstream>

#include "neurops/core/strings.hpp"

namespace neurops::solvers {

namespace {

int rank_of(DM dm) {
  PetscMPIInt rank = 0;
  MPI_Comm_rank(PetscObjectComm(reinterpret_cast<PetscObject>(dm)), &rank);
  return rank;
}

// The natural order (z, y, x, dof) of PETSc against the Tensor's (dof, z, y, x): entry p of the
// natural vector is point p / dof, component p % dof.
template <class T>
void natural_to_tensor(const PetscScalar* natural, index_t points, index_t dof, T* out) {
  for (index_t p = 0; p < points; ++p)
    for (index_t c = 0; c < dof; ++c) out[c * points + p] = static_cast<T>(PetscRealPart(natural[p * dof + c]));
}

template <class T>
void tensor_to_natural(const T* in, index_t points, index_t dof, PetscScalar* natural) {
  for (index_t p = 0; p < points; ++p)
    for (index_t c = 0; c < dof; ++c) natural[p * dof + c] = static_cast<PetscScalar>(in[c * points + p]);
}

index_t points_of(const DmdaLayout& l) {
  index_t n = 1;
  for (index_t g : l.grid) n *= g;
  return n;
}

// A (dof, grid...) or (1, dof, grid...) tensor that fits the layout.
template <class T>
void check_field_shape(const Tensor<T>& t, const DmdaLayout& l) {
  const Shape want = l.tensor_shape();
  const bool fits = t.shape() == want || t.shape() == want.tail(1);
  NEUROPS_CHECK(fits, "DMDA bridge: a field for the " << l.str() << " must have shape " << want << " or "
                                                      << want.tail(1) << ", found " << t.shape());
}

// The owned box of this rank: start and width along x, y, z (z: 0 and 1 in 2-D).
struct OwnedBox {
  PetscInt xs = 0, ys = 0, zs = 0, xm = 0, ym = 0, zm = 1;
};
OwnedBox owned_box(DM dm) {
  OwnedBox b;
  NEUROPS_PETSC(DMDAGetCorners(dm, &b.xs, &b.ys, &b.zs, &b.xm, &b.ym, &b.zm));
  if (b.zm == 0) b.zm = 1;  // 2-D: DMDAGetCorners reports zm = 1 already; keep the loop shape explicit
  return b;
}

}  // namespace

Shape DmdaLayout::tensor_shape() const {
  std::vector<index_t> dims{1, dof};
  dims.insert(dims.end(), grid.begin(), grid.end());
  return Shape(dims);
}

std::string DmdaLayout::str() const {
  std::ostringstream os;
  os << dim << "-D DMDA ";
  for (std::size_t a = 0; a < grid.size(); ++a) os << (a ? " x " : "") << grid[a];
  os << (dim == 2 ? " (y, x)" : " (z, y, x)") << " with " << dof << " dof";
  return os.str();
}

DmdaLayout dmda_layout(DM dm, const std::string& who) {
  NEUROPS_CHECK(dm, who << ": no DM given; expected a 2-D or 3-D DMDA");
  PetscBool is_da = PETSC_FALSE;
  NEUROPS_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(dm), DMDA, &is_da));
  const char* type = nullptr;
  NEUROPS_PETSC(DMGetType(dm, &type));
  NEUROPS_CHECK(is_da, who << ": the DM is of type " << (type ? type : "(none)") << ", expected a 2-D or 3-D DMDA");
  PetscInt dim = 0, mx = 0, my = 0, mz = 0, dof = 0;
  NEUROPS_PETSC(DMDAGetInfo(dm, &dim, &mx, &my, &mz, nullptr, nullptr, nullptr, &dof, nullptr, nullptr, nullptr,
                            nullptr, nullptr));
  NEUROPS_CHECK(dim == 2 || dim == 3, who << ": the DMDA is " << dim << "-D, expected 2-D or 3-D");
  DmdaLayout l;
  l.dim = int(dim);
  l.dof = dof;
  l.grid = dim == 2 ? std::vector<index_t>{my, mx} : std::vector<index_t>{mz, my, mx};
  return l;
}

DmdaBridge::DmdaBridge(DM dm, Ranks where) : dm_(dm), where_(where), layout_(dmda_layout(dm)) {
  NEUROPS_PETSC(DMDACreateNaturalVector(dm, natural_.out()));
  if (where == Ranks::all)
    NEUROPS_PETSC(VecScatterCreateToAll(natural_, &scatter_, gathered_.out()));
  else
    NEUROPS_PETSC(VecScatterCreateToZero(natural_, &scatter_, gathered_.out()));
}

DmdaBridge::~DmdaBridge() {
  if (scatter_) (void)VecScatterDestroy(&scatter_);
}

bool DmdaBridge::holds_field() const { return where_ == Ranks::all || rank_of(dm_) == 0; }

template <class T>
Tensor<T> DmdaBridge::to_tensor(Vec v) {
  NEUROPS_PETSC(DMDAGlobalToNaturalBegin(dm_, v, INSERT_VALUES, natural_));
  NEUROPS_PETSC(DMDAGlobalToNaturalEnd(dm_, v, INSERT_VALUES, natural_));
  NEUROPS_PETSC(VecScatterBegin(scatter_, natural_, gathered_, INSERT_VALUES, SCATTER_FORWARD));
  NEUROPS_PETSC(VecScatterEnd(scatter_, natural_, gathered_, INSERT_VALUES, SCATTER_FORWARD));
  if (!holds_field()) return {};
  Tensor<T> t = Tensor<T>::uninitialized(layout_.tensor_shape());
  const PetscScalar* a = nullptr;
  NEUROPS_PETSC(VecGetArrayRead(gathered_, &a));
  natural_to_tensor(a, points_of(layout_), layout_.dof, t.data());
  NEUROPS_PETSC(VecRestoreArrayRead(gathered_, &a));
  return t;
}

template <class T>
void DmdaBridge::from_tensor(const Tensor<T>& t, Vec v) {
  const index_t points = points_of(layout_), dof = layout_.dof;
  if (where_ == Ranks::all) {
    // Every rank has the whole field: each writes its own box, no communication.
    check_field_shape(t, layout_);
    const OwnedBox b = owned_box(dm_);
    const index_t nx = layout_.grid.back(), ny = layout_.grid[layout_.grid.size() - 2];
    PetscScalar* a = nullptr;
    NEUROPS_PETSC(VecGetArray(v, &a));
    index_t k = 0;
    for (PetscInt z = b.zs; z < b.zs + b.zm; ++z)
      for (PetscInt y = b.ys; y < b.ys + b.ym; ++y)
        for (PetscInt x = b.xs; x < b.xs + b.xm; ++x) {
          const index_t p = (index_t(z) * ny + y) * nx + x;
          for (index_t c = 0; c < dof; ++c) a[k++] = static_cast<PetscScalar>(t[c * points + p]);
        }
    NEUROPS_PETSC(VecRestoreArray(v, &a));
    return;
  }
  // Ranks::root: rank 0 fills the gathered vector, the reverse scatter distributes it.
  if (holds_field()) {
    check_field_shape(t, layout_);
    PetscScalar* a = nullptr;
    NEUROPS_PETSC(VecGetArray(gathered_, &a));
    tensor_to_natural(t.data(), points, dof, a);
    NEUROPS_PETSC(VecRestoreArray(gathered_, &a));
  }
  NEUROPS_PETSC(VecScatterBegin(scatter_, gathered_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  NEUROPS_PETSC(VecScatterEnd(scatter_, gathered_, natural_, INSERT_VALUES, SCATTER_REVERSE));
  NEUROPS_PETSC(DMDANaturalToGlobalBegin(dm_, natural_, INSERT_VALUES, v));
  NEUROPS_PETSC(DMDANaturalToGlobalEnd(dm_, natural_, INSERT_VALUES, v));
}

template <class T>
Tensor<T> to_tensor(DM dm, Vec v, Ranks where) {
  DmdaBridge bridge(dm, where);
  return bridge.to_tensor<T>(v);
}

template <class T>
void from_tensor(DM dm, const Tensor<T>& t, Vec v, Ranks from) {
  DmdaBridge bridge(dm, from);
  bridge.from_tensor(t, v);
}

void impose_dirichlet(DM dm, const DirichletNodes& nodes, Vec y) {
  if (nodes.kind == DirichletNodes::Kind::none) return;
  PetscInt n = 0;
  NEUROPS_PETSC(VecGetLocalSize(y, &n));
  const PetscScalar* g = nullptr;
  if (nodes.values) {
    PetscInt ng = 0;
    NEUROPS_PETSC(VecGetLocalSize(nodes.values, &ng));
    NEUROPS_CHECK(ng == n, "Dirichlet data: the values Vec has " << ng << " local entries, the field " << n
                                                                 << " (expected a global Vec of the same DMDA)");
    NEUROPS_PETSC(VecGetArrayRead(nodes.values, &g));
  }
  PetscScalar* a = nullptr;
  NEUROPS_PETSC(VecGetArray(y, &a));
  if (nodes.kind == DirichletNodes::Kind::mask) {
    NEUROPS_CHECK(nodes.mask, "Dirichlet data: Kind::mask without a mask Vec");
    const PetscScalar* m = nullptr;
    NEUROPS_PETSC(VecGetArrayRead(nodes.mask, &m));
    for (PetscInt i = 0; i < n; ++i)
      if (PetscRealPart(m[i]) != 0) a[i] = g ? g[i] : 0;
    NEUROPS_PETSC(VecRestoreArrayRead(nodes.mask, &m));
  } else {
    const DmdaLayout l = dmda_layout(dm, "Dirichlet data");
    const OwnedBox b = owned_box(dm);
    const index_t nx = l.grid.back(), ny = l.grid[l.grid.size() - 2], nz = l.dim == 3 ? l.grid[0] : 1;
    index_t k = 0;
    for (PetscInt z = b.zs; z < b.zs + b.zm; ++z)
      for (PetscInt y2 = b.ys; y2 < b.ys + b.ym; ++y2)
        for (PetscInt x = b.xs; x < b.xs + b.xm; ++x) {
          const bool face = x == 0 || x == nx - 1 || y2 == 0 || y2 == ny - 1 || (nz > 1 && (z == 0 || z == nz - 1));
          for (index_t c = 0; c < l.dof; ++c, ++k)
            if (face) a[k] = g ? g[k] : 0;
        }
  }
  NEUROPS_PETSC(VecRestoreArray(y, &a));
  if (g) NEUROPS_PETSC(VecRestoreArrayRead(nodes.values, &g));
}

template <class T>
void check_model_fits(const TrainedModel<T>& model, const DmdaLayout& in, const DmdaLayout& out) {
  const std::string where = "'" + model.path().string() + "' (" + model.type() + ")";
  NEUROPS_CHECK(model.in_channels() == in.dof, where << " takes " << model.in_channels()
                                                     << " input channels, the input " << in.str() << " has " << in.dof
                                                     << " dof per node");
  NEUROPS_CHECK(model.out_channels() == out.dof, where << " gives " << model.out_channels()
                                                       << " output channels, the output " << out.str() << " has "
                                                       << out.dof << " dof per node");
  NEUROPS_CHECK(in.grid == out.grid,
                "DMDA bridge: the input " << in.str() << " and the output " << out.str() << " must have the same grid");
  const auto& grid = model.grid();
  if (grid.empty()) return;
  NEUROPS_CHECK(grid == in.grid,
                where << " was trained on the grid " << join(grid, " x ") << ", the input is a " << in.str());
}

template <class T>
void apply(TrainedModel<T>& model, DmdaBridge& in, Vec x, DmdaBridge& out, Vec y, const DirichletNodes& nodes) {
  NEUROPS_CHECK(in.ranks() == Ranks::root && out.ranks() == Ranks::root,
                "DMDA bridge: apply() runs the model on rank 0; construct the bridges with Ranks::root");
  check_model_fits(model, in.layout(), out.layout());  // on every rank, before any rank waits for another
  const Tensor<T> field = in.to_tensor<T>(x);
  Tensor<T> prediction;
  std::string failure;
  const MPI_Comm comm = PetscObjectComm(reinterpret_cast<PetscObject>(in.dm()));
  if (rank_of(in.dm()) == 0) {
    try {
      prediction = model.predict(field);
    } catch (const Error& e) {
      failure = e.what();
    }
  }
  // A failure on rank 0 must reach every rank, or the others would wait in the scatter forever.
  int failed = failure.empty() ? 0 : 1;
  MPI_Bcast(&failed, 1, MPI_INT, 0, comm);
  NEUROPS_CHECK(!failed, (failure.empty() ? std::string("the model failed on rank 0") : failure));
  out.from_tensor(prediction, y);
  impose_dirichlet(out.dm(), nodes, y);
}

template <class T>
void apply(TrainedModel<T>& model, DM dm_in, Vec x, DM dm_out, Vec y, const DirichletNodes& nodes) {
  DmdaBridge in(dm_in, Ranks::root), out(dm_out, Ranks::root);
  apply(model, in, x, out, y, nodes);
}

template <class T>
void apply(TrainedModel<T>& model, DM dm, Vec x, Vec y, const DirichletNodes& nodes) {
  apply(model, dm, x, dm, y, nodes);
}

#define NEUROPS_INSTANTIATE(T)                                                                     \
  template Tensor<T> DmdaBridge::to_tensor<T>(Vec);                                                \
  template void DmdaBridge::from_tensor<T>(const Tensor<T>&, Vec);                                 \
  template Tensor<T> to_tensor<T>(DM, Vec, Ranks);                                                 \
  template void from_tensor<T>(DM, const Tensor<T>&, Vec, Ranks);                                  \
  template void check_model_fits<T>(const TrainedModel<T>&, const DmdaLayout&, const DmdaLayout&); \
  template void apply<T>(TrainedModel<T>&, DM, Vec, DM, Vec, const DirichletNodes&);               \
  template void apply<T>(TrainedModel<T>&, DM, Vec, Vec, const DirichletNodes&);                   \
  template void apply<T>(TrainedModel<T>&, DmdaBridge&, Vec, DmdaBridge&, Vec, const DirichletNodes&);
NEUROPS_INSTANTIATE(float)
NEUROPS_INSTANTIATE(double)
#undef NEUROPS_INSTANTIATE

}  // namespace neurops::solvers
