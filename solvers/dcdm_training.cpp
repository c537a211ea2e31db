// Training data and loss of the DCDM network (see dcdm_training.hpp).
#include "neurops/solvers/dcdm_training.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "neurops/core/fftw.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/core/random.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/trainer.hpp"
#include "neurops/pde/linear_systems.hpp"

namespace neurops::solvers {

// ---- data -----------------------------------------------------------------------------------------

index_t DcdmDataConfig::resolved_modes() const { return modes > 0 ? modes : std::min<index_t>(10000, n * n * n / 4); }
index_t DcdmDataConfig::resolved_theta() const { return theta >= 0 ? theta : resolved_modes() / 20; }

void DcdmDataConfig::validate() const {
  NEUROPS_CHECK(n >= 2 && n % 2 == 0, "DCDM data: n must be even and >= 2 (the network pools once), found " << n);
  NEUROPS_CHECK(samples >= 1, "DCDM data: samples must be >= 1, found " << samples);
  const index_t m = resolved_modes();
  NEUROPS_CHECK(m >= 1 && m <= n * n * n, "DCDM data: modes must be in [1, n^3 = " << n * n * n << "], found " << m);
  NEUROPS_CHECK(m / 2 + resolved_theta() <= m,
                "DCDM data: m/2 + theta = " << m / 2 + resolved_theta() << " exceeds the " << m << " modes");
  NEUROPS_CHECK(low_weight > 0, "DCDM data: low_weight must be > 0, found " << low_weight);
}

std::vector<std::array<int, 3>> dcdm_select_modes(index_t n, index_t m) {
  NEUROPS_CHECK(m >= 1 && m <= n * n * n, "dcdm_select_modes: m = " << m << " outside [1, " << n * n * n << "]");
  std::vector<double> mu(static_cast<std::size_t>(n));
  for (index_t k = 0; k < n; ++k) mu[std::size_t(k)] = 2 - 2 * std::cos(M_PI * double(k + 1) / double(n + 1));
  const index_t total = n * n * n;
  std::vector<index_t> order(static_cast<std::size_t>(total));
  std::iota(order.begin(), order.end(), 0);
  auto lambda = [&](index_t id) {
    return mu[std::size_t(id / (n * n))] + mu[std::size_t(id / n % n)] + mu[std::size_t(id % n)];
  };
  std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) { return lambda(a) < lambda(b); });
  std::vector<double> sorted(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) sorted[i] = lambda(order[i]);
  // Chebyshev points of [lambda_min, lambda_max]; each takes the nearest eigenvalue not yet taken.
  std::vector<char> taken(order.size(), 0);
  std::vector<index_t> chosen;
  const double lo = sorted.front(), hi = sorted.back();
  for (index_t j = 0; j < m; ++j) {
    const double t = lo + (hi - lo) * 0.5 * (1 - std::cos(M_PI * (double(j) + 0.5) / double(m)));
    auto r = index_t(std::lower_bound(sorted.begin(), sorted.end(), t) - sorted.begin());
    r = std::min(r, total - 1);
    if (r > 0 && t - sorted[std::size_t(r - 1)] < sorted[std::size_t(r)] - t) --r;
    index_t below = r, above = r;
    while (true) {  // nearest free rank, searching outwards
      if (above < total && !taken[std::size_t(above)]) {
        r = above;
        break;
      }
      if (below >= 0 && !taken[std::size_t(below)]) {
        r = below;
        break;
      }
      ++above;
      --below;
    }
    taken[std::size_t(r)] = 1;
    chosen.push_back(r);
  }
  std::sort(chosen.begin(), chosen.end());
  std::vector<std::array<int, 3>> modes;
  for (index_t r : chosen) {
    const index_t id = order[std::size_t(r)];
    modes.push_back({int(id % n) + 1, int(id / n % n) + 1, int(id / (n * n)) + 1});
  }
  return modes;
}

namespace {

/// A 3-D DST-I plan (FFTW RODFT00 on every axis), created under the planner lock.
class SinePlan {
 public:
  explicit SinePlan(index_t n) : in_(std::size_t(n * n * n)), out_(in_.size()) {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    const int s = int(n);
    plan_ = fftw_plan_r2r_3d(s, s, s, in_.data(), out_.data(), FFTW_RODFT00, FFTW_RODFT00, FFTW_RODFT00, FFTW_ESTIMATE);
    NEUROPS_CHECK(plan_, "DCDM data: FFTW could not plan a " << n << "^3 DST-I");
  }
  ~SinePlan() {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftw_destroy_plan(plan_);
  }
  SinePlan(const SinePlan&) = delete;
  SinePlan& operator=(const SinePlan&) = delete;
  /// Normalised synthesis of the coefficient array.
  const std::vector<double>& synthesise(const std::vector<double>& c) {
    std::copy(c.begin(), c.end(), in_.begin());
    fftw_execute(plan_);
    double norm = 0;
    for (double v : out_) norm += v * v;
    norm = std::sqrt(norm);
    NEUROPS_CHECK(norm > 0, "DCDM data: all mode coefficients are zero");
    for (double& v : out_) v /= norm;
    return out_;
  }

 private:
  std::vector<double> in_, out_;
  fftw_plan plan_ = nullptr;
};

/// Coefficients of sample i: N(0,1) on every selected mode, times low_weight on the lowest
/// m/2 + theta (the reference's 9 N(0,1)), zero on the modes not selected.
std::vector<double> sample_coefficients(const DcdmDataConfig& c, const std::vector<std::array<int, 3>>& modes,
                                        index_t i) {
  Rng rng = Rng::stream(c.seed, std::uint64_t(i));
  const index_t n = c.n, cut = c.resolved_modes() / 2 + c.resolved_theta();
  std::vector<double> coef(std::size_t(n * n * n), 0.0);
  for (std::size_t j = 0; j < modes.size(); ++j) {
    const auto& k = modes[j];
    const double w = index_t(j) < cut ? c.low_weight : 1.0;
    coef[std::size_t(((k[2] - 1) * n + (k[1] - 1)) * n + (k[0] - 1))] = w * rng.normal();
  }
  return coef;
}

void check_attr(const io::H5File& f, const std::string& name, double expected) {
  NEUROPS_CHECK(f.has_attr("/b", name), "'" << f.path().string() << "': /b has no attribute " << name);
  const double found = f.attr_real("/b", name);
  NEUROPS_CHECK(found == expected, "'" << f.path().string() << "' was generated with " << name << " = " << found
                                       << ", this run asks for " << expected
                                       << "; use another file or the same settings to resume");
}

}  // namespace

std::vector<double> dcdm_synthesise(index_t n, const std::vector<double>& coefficients) {
  NEUROPS_CHECK(index_t(coefficients.size()) == n * n * n,
                "dcdm_synthesise: expected " << n * n * n << " coefficients, found " << coefficients.size());
  SinePlan plan(n);
  return plan.synthesise(coefficients);
}

void generate_dcdm_box_data(const std::filesystem::path& file, const DcdmDataConfig& c, bool verbose) {
  c.validate();
  const index_t n = c.n;
  const bool resume = std::filesystem::exists(file);
  io::H5File f = resume ? io::H5File::open(file, io::FileMode::read_write) : io::H5File::create(file, false);
  const std::vector<std::pair<std::string, double>> attrs = {{"n", double(n)},
                                                             {"modes", double(c.resolved_modes())},
                                                             {"theta", double(c.resolved_theta())},
                                                             {"low_weight", c.low_weight},
                                                             {"seed", double(c.seed)}};
  if (resume) {
    NEUROPS_CHECK(f.is_dataset("/b"), "'" << file.string() << "' exists but has no dataset /b to resume");
    for (const auto& [name, value] : attrs) check_attr(f, name, value);
  } else {
    f.create_extendable<float>("/b", Shape{1, n, n, n}, 1);
    for (const auto& [name, value] : attrs) f.set_attr("/b", name, value);
    f.set_attr("/b", "description",
               std::string("unit-norm right-hand sides: sums of the m selected Dirichlet sine modes of the 7-point "
                           "Laplacian, N(0,1) coefficients, low_weight N(0,1) on the lowest m/2 + theta"));
  }
  const index_t have = f.shape("/b")[0];
  if (have >= c.samples) return;
  const auto modes = dcdm_select_modes(n, c.resolved_modes());
  SinePlan plan(n);
  Progress progress(c.samples - have, "dcdm data", verbose ? 10.0 : 1e300);
  Tensor<float> row({1, 1, n, n, n});
  for (index_t i = have; i < c.samples; ++i) {
    const auto& b = plan.synthesise(sample_coefficients(c, modes, i));
    for (index_t k = 0; k < row.numel(); ++k) row[k] = float(b[std::size_t(k)]);
    f.append<float>("/b", row);
    if ((i + 1) % 16 == 0) f.flush();  // a killed run keeps what it wrote; the next one resumes
    if (verbose) progress.update(i + 1 - have);
  }
  f.flush();
  if (verbose) progress.finish();
}

// ---- loss -----------------------------------------------------------------------------------------

template <class T>
DcdmLoss<T>::DcdmLoss(Mat A) : A_(PetscMat::borrow(A)) {
  NEUROPS_PETSC(MatCreateVecs(A, q_.out(), b_.out()));
  NEUROPS_PETSC(VecDuplicate(b_, aq_.out()));
  NEUROPS_PETSC(VecDuplicate(b_, work_.out()));
}

namespace {
template <class T>
void copy_in(const T* src, Vec v) {
  PetscScalar* a = nullptr;
  PetscInt n = 0;
  NEUROPS_PETSC(VecGetLocalSize(v, &n));
  NEUROPS_PETSC(VecGetArray(v, &a));
  for (PetscInt i = 0; i < n; ++i) a[i] = src[i];
  NEUROPS_PETSC(VecRestoreArray(v, &a));
}
}  // namespace

template <class T>
double DcdmLoss<T>::evaluate(const Tensor<T>& q, const Tensor<T>& b, Tensor<T>* grad) const {
  NEUROPS_CHECK(q.shape() == b.shape() && q.rank() >= 2,
                "DcdmLoss: prediction " << q.shape() << " and target " << b.shape() << " must have the same shape");
  PetscInt rows = 0;
  NEUROPS_PETSC(VecGetLocalSize(b_, &rows));
  const index_t batch = q.size(0), per = q.numel() / batch;
  NEUROPS_CHECK(per == rows, "DcdmLoss: samples of " << per << " values, the matrix has " << rows << " rows");
  if (grad) *grad = Tensor<T>(q.shape());
  double total = 0;
  for (index_t s = 0; s < batch; ++s) {
    copy_in(q.data() + s * per, q_);
    copy_in(b.data() + s * per, b_);
    NEUROPS_PETSC(MatMult(A_, q_, aq_));
    PetscScalar qaq = 0, qb = 0;
    NEUROPS_PETSC(VecDot(aq_, q_, &qaq));
    NEUROPS_PETSC(VecDot(b_, q_, &qb));
    NEUROPS_CHECK(PetscRealPart(qaq) != 0, "DcdmLoss: q.Aq = 0 for sample " << s << " (a zero prediction)");
    const PetscScalar alpha = qb / qaq;
    NEUROPS_PETSC(VecWAXPY(work_, -alpha, aq_, b_));  // e = b - alpha A q
    PetscReal enorm = 0;
    NEUROPS_PETSC(VecNorm(work_, NORM_2, &enorm));
    total += enorm * enorm;
    if (!grad) continue;
    // d/dq ||b - alpha A q||^2 with alpha = q.b / q.Aq:
    //   -2 (e.u)/(q.u) b + 2 alpha (e.u)/(q.u) u + A^T (2 alpha (e.u)/(q.u) q - 2 alpha e),  u = A q.
    PetscScalar eu = 0;
    NEUROPS_PETSC(VecDot(work_, aq_, &eu));
    const PetscScalar g = eu / qaq, scale = 1.0 / PetscScalar(batch);
    NEUROPS_PETSC(VecAXPBY(work_, 2 * alpha * g, -2 * alpha, q_));  // work = 2 alpha g q - 2 alpha e
    NEUROPS_PETSC(MatMultTranspose(A_, work_, q_));                 // q_ = A^T work
    NEUROPS_PETSC(VecAXPBYPCZ(q_, -2 * g, 2 * alpha * g, 1.0, b_, aq_));
    const PetscScalar* a = nullptr;
    NEUROPS_PETSC(VecGetArrayRead(q_, &a));
    T* out = grad->data() + s * per;
    for (index_t i = 0; i < per; ++i) out[i] = static_cast<T>(PetscRealPart(a[i] * scale));
    NEUROPS_PETSC(VecRestoreArrayRead(q_, &a));
  }
  return total / double(batch);
}

template class DcdmLoss<float>;
template class DcdmLoss<double>;

// ---- training recipe ------------------------------------------------------------------------------

DcdmTrainResult train_dcdm(operators::DcdmNet<float>& net, const std::filesystem::path& data, const DcdmTrainConfig& c,
                           const std::filesystem::path& model) {
  NEUROPS_CHECK(c.epochs >= 1 && c.batch >= 1,
                "train_dcdm: epochs and batch must be >= 1, found " << c.epochs << " and " << c.batch);
  const auto full = nn::FieldDataset<float>::load(data, "/b", "/b");
  const index_t n = full.inputs.size(2);
  const auto split = nn::split_indices(full.size(), 1 - c.validation_fraction, c.validation_fraction, c.seed);
  const auto train = full.subset(split.train), validation = full.subset(split.validation);
  PetscDM grid = pde::dirichlet_grid_3d(PETSC_COMM_SELF, n, n, n);
  PetscMat A = pde::assemble_laplacian(grid);
  const DcdmLoss<float> loss(A);

  nn::TrainerOptions topt;
  topt.epochs = c.epochs;
  topt.batch_size = c.batch;
  topt.seed = c.seed;
  topt.output_dir = c.work_dir;
  topt.eval_batch_size = c.batch;
  topt.verbose = c.verbose;
  nn::Adam<float> adam(net, {.lr = c.lr});
  nn::Trainer<float> trainer(net, adam, nullptr, loss, topt);
  trainer.set_metric(loss);  // the best epoch is the one with the lowest DCDM loss on held-out data
  if (!c.work_dir.empty() && std::filesystem::exists(c.work_dir / "checkpoint.h5"))
    trainer.resume(c.work_dir / "checkpoint.h5");
  const auto& state = trainer.fit(train, validation.size() ? &validation : nullptr);
  trainer.restore_best();
  net.eval();

  DcdmTrainResult r;
  for (double t : state.seconds) r.seconds += t;  // all epochs, also those of a resumed run
  r.best_validation_loss = state.best_metric;
  r.best_epoch = state.best_epoch;
  r.epochs = state.epoch;
  r.train_samples = train.size();
  r.validation_samples = validation.size();

  // A model-only checkpoint, with the settings that produced it.
  nn::CheckpointContents<float> contents;
  contents.model = &net;
  nn::save_checkpoint(model, contents);
  io::H5File f = io::H5File::open(model, io::FileMode::read_write);
  const io::H5File d = io::H5File::open(data);
  for (const char* a : {"n", "modes", "theta", "low_weight", "seed"})
    f.set_attr("/", std::string("data_") + a, d.attr_real("/b", a));
  f.set_attr("/", "problem", std::string("7-point Dirichlet Laplacian (6 on the diagonal, -1 off), interior grid"));
  f.set_attr("/", "train_samples", std::int64_t(r.train_samples));
  f.set_attr("/", "validation_samples", std::int64_t(r.validation_samples));
  f.set_attr("/", "epochs", std::int64_t(r.epochs));
  f.set_attr("/", "best_epoch", std::int64_t(r.best_epoch));
  f.set_attr("/", "batch", std::int64_t(c.batch));
  f.set_attr("/", "lr", c.lr);
  f.set_attr("/", "optimizer", std::string("Adam"));
  f.set_attr("/", "loss", std::string("||b - alpha A q||^2, alpha = q.b / q.Aq (mean over the batch)"));
  f.set_attr("/", "best_validation_loss", r.best_validation_loss);
  f.set_attr("/", "training_seconds", r.seconds);
  f.flush();
  return r;
}

}  // namespace neurops::solvers
