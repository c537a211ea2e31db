#pragma once
// Online tuning of the SOR relaxation parameter omega over a sequence of linear systems with
// bandit algorithms, as in Learning to Relax (Khodak, Chow, Balcan, Talwalkar, ICLR 2024; code
// learners/TsallisINF.m, ChebCB.m, TsallisINFCB.m). Each learner picks omega from a grid of arms
// before a solve (choose), then sees that solve's cost, the iteration count (observe).
//
//   auto tuner = make_tuner({.learner = "tsallis", .seed = 3});
//   for (...) { double w = tuner->choose(c); auto r = sor_solve(A, b, x, w); tuner->observe(r.iterations); }
#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "neurops/core/random.hpp"

namespace neurops::solvers {

/// n equally spaced values from lo to hi inclusive (MATLAB linspace).
std::vector<double> linspace(double lo, double hi, int n);

/// What a learner has learned, as named one-dimensional arrays: the counters and per-arm sums of
/// BanditLearner, the learner's own sums, weights and model, and its generator's state. A learner of the
/// same configuration that imports it makes exactly the choices the exporting one would have made.
/// Files: bandit_state.hpp.
struct TunerState {
  std::map<std::string, std::vector<double>> reals;
  std::map<std::string, std::vector<std::int64_t>> integers;
};

/// A learner over K arms, each labelled by a value: the omega of SOR for the tuners above (make_tuner),
/// the index of an option set for the configuration bandit (make_arm_set_learner). The learners see
/// only arm indices and costs; the labels are what choose() hands back.
class BanditLearner {
 public:
  explicit BanditLearner(std::vector<double> arms);
  virtual ~BanditLearner() = default;
  /// The label (omega) of the arm for the next system; `context` is a scalar describing it (ignored
  /// by learners without context).
  double choose(double context = 0.0);
  /// The cost (iteration count, >= 1 for a useful signal) of the solve with the last chosen omega.
  void observe(double cost);
  virtual std::string name() const = 0;
  /// One-paragraph summary of what was learned (pulls and mean cost per arm, current favourite).
  virtual std::string summary() const;

  const std::vector<double>& arms() const { return arms_; }
  int last_arm() const { return last_arm_; }
  std::int64_t rounds() const { return rounds_; }
  const std::vector<std::int64_t>& pulls() const { return pulls_; }
  /// Mean observed cost per arm (NaN for arms never played).
  std::vector<double> mean_costs() const;

  /// Adds everything needed to continue exactly from here to `state`, each entry named `prefix` + name.
  void export_state(TunerState& state, const std::string& prefix = "") const;
  /// Continues from a state exported by a learner of the same kind and configuration. Missing entries,
  /// wrong lengths, non-finite values, negative counts and counters that disagree are an Error naming
  /// the entry; the learner may then be half-restored, so import into a fresh learner (make_tuner).
  void import_state(const TunerState& state, const std::string& prefix = "");

 protected:
  virtual int pick(double context) = 0;
  virtual void learn(double cost) = 0;
  /// The learner's own part of export_state/import_state (nothing for learners without memory).
  virtual void export_own(TunerState&, const std::string&) const {}
  virtual void import_own(const TunerState&, const std::string&) {}
  std::vector<double> arms_;

 private:
  int last_arm_ = -1;
  std::int64_t rounds_ = 0;
  std::vector<std::int64_t> pulls_;
  std::vector<double> cost_sums_;
};

/// The learners were first written to tune omega; the SOR code keeps that name.
using OmegaTuner = BanditLearner;

/// Always the same omega (a baseline, or a tuner switched off).
class FixedOmega final : public BanditLearner {
 public:
  explicit FixedOmega(double omega);
  std::string name() const override { return "fixed"; }

 private:
  int pick(double) override { return 0; }
  void learn(double) override {}
};

/// How Tsallis-INF finds its normaliser x.
enum class TsallisNormaliser {
  /// As learners/TsallisINF.m: 20 Newton steps from x = -1, arms sampled in proportion to the
  /// resulting weights, importance weights from the played arm's weight. Once losses have grown, -1
  /// lies left of the root and Newton can jump past the pole at min K_i/s, so the weights need not
  /// sum to one; this is the behaviour the paper's figures were produced with.
  reference,
  /// Newton started where it converges monotonically (x = -1 if f(-1) >= 0, else min K_i/s - 2/eta):
  /// the weights are the exact Tsallis-INF distribution.
  safeguarded
};

/// Tsallis-INF with eta_t = 2/sqrt(t): weights p_i = 4 (eta (K_i/s - x))^{-2} with the normaliser x
/// from 20 Newton steps, K_i accumulating importance-weighted (cost - 1)/p_i of the arm played, and
/// s the running mean of the observed (cost - 1). No clipping of costs.
class TsallisInf final : public BanditLearner {
 public:
  TsallisInf(std::vector<double> arms, std::uint64_t seed, TsallisNormaliser normaliser = TsallisNormaliser::reference);
  std::string name() const override { return "tsallis"; }
  /// The sampling distribution of the next round (the weights normalised).
  std::vector<double> probabilities() const;
  /// The weights p_i before normalisation (sum to one with the safeguarded normaliser).
  std::vector<double> weights() const;

 private:
  int pick(double) override;
  void learn(double cost) override;
  void export_own(TunerState& state, const std::string& prefix) const override;
  void import_own(const TunerState& state, const std::string& prefix) override;
  Rng rng_;
  TsallisNormaliser normaliser_;
  std::vector<double> cumulative_;  // K_i
  double scale_ = 1.0;              // s
  double cost_sum_ = 0;
  double played_prob_ = 1.0;
  std::int64_t t_ = 1;
};

/// ChebCB: the context mapped to [-1, 1] (clamped), Chebyshev features T0..T_{m-1}, one linear
/// model per arm fitted by minimum-norm least squares to (cost - 1)/scale, refitted with box
/// bounds (coordinate descent, exact for this 6-unknown box QP) when the coefficients leave the
/// bounds derived from the observed maximum/minimum cost; inverse-gap weighting
/// p_i = 1/(d + eta (yhat_i - yhat*)) with the greedy arm taking the rest.
class ChebCB final : public BanditLearner {
 public:
  ChebCB(std::vector<double> arms, double context_lo, double context_hi, std::uint64_t seed, int features = 6);
  // Out of line: the Eigen members must be freed by the code that allocated them (the library may
  // be built with wider SIMD alignment than the program including this header).
  ~ChebCB() override;
  ChebCB(const ChebCB&) = delete;
  ChebCB& operator=(const ChebCB&) = delete;
  std::string name() const override { return "chebcb"; }
  std::string summary() const override;
  /// Predicted cost of each arm at a context (in cost units).
  std::vector<double> predicted_costs(double context) const;
  double eta() const { return eta_; }

 private:
  int pick(double context) override;
  void learn(double cost) override;
  void export_own(TunerState& state, const std::string& prefix) const override;
  void import_own(const TunerState& state, const std::string& prefix) override;
  Eigen::VectorXd features(double context) const;
  void fit_arm(int arm, const Eigen::VectorXd& lb, const Eigen::VectorXd& ub, double& resnorm);

  Rng rng_;
  int m_;
  double lo_, width_;
  double eta_ = 0, scale_ = 0;
  Eigen::MatrixXd theta_;                // arms x m
  std::vector<Eigen::MatrixXd> gram_;    // sum f f^T per arm
  std::vector<Eigen::VectorXd> moment_;  // sum f (cost - 1) per arm
  std::vector<double> square_;           // sum (cost - 1)^2 per arm
  std::int64_t observed_ = 0;
  double sum_pp_ = 0, sum_pc_ = 0, sum_cc_ = 0;  // running sums for the residual R
  Eigen::VectorXd last_features_;
  double max_cost_ = 0, min_cost_ = 0;
  double pending_prediction_ = 0;
};

/// Tsallis-INF-CB: the context interval split into `bins` equal bins, each with its own Tsallis-INF;
/// a context goes to the bin with the nearest centre.
class BinnedTsallisInf final : public BanditLearner {
 public:
  BinnedTsallisInf(std::vector<double> arms, int bins, double context_lo, double context_hi, std::uint64_t seed,
                   TsallisNormaliser normaliser = TsallisNormaliser::reference);
  std::string name() const override { return "binned"; }
  std::string summary() const override;

 private:
  int pick(double context) override;
  void learn(double cost) override;
  void export_own(TunerState& state, const std::string& prefix) const override;
  void import_own(const TunerState& state, const std::string& prefix) override;
  std::vector<TsallisInf> bins_;
  std::vector<double> centres_;
  int active_ = 0;
};

struct TunerConfig {
  std::string learner = "tsallis";  ///< tsallis | chebcb | binned | fixed
  int arms = 20;
  double omega_min = 1.0, omega_max = 1.95;
  double context_lo = -0.15, context_hi = 0.65;
  int bins = 5;
  int features = 6;
  double fixed_omega = 1.5;
  std::string tsallis_normaliser = "reference";  ///< reference | safeguarded (see TsallisNormaliser)
  std::uint64_t seed = 0;
};
/// Builds a tuner; a bad learner name, arm count, omega range (inside (0, 2)) or context range is an
/// Error naming the field.
std::unique_ptr<BanditLearner> make_tuner(const TunerConfig& config);

/// Always arm `arm` of K (a fixed configuration among several, as a baseline).
class FixedArm final : public BanditLearner {
 public:
  FixedArm(std::vector<double> arms, int arm);
  std::string name() const override { return "fixed"; }

 private:
  int pick(double) override { return arm_; }
  void learn(double) override {}
  int arm_;
};

/// A learner over `arms` unordered alternatives (the configuration bandit's option sets), labelled
/// 0..arms-1: no grid, no context.
struct ArmSetConfig {
  std::string learner = "tsallis";  ///< tsallis | fixed
  int arms = 1;
  int fixed_arm = 0;  ///< the arm of the fixed learner
  /// safeguarded (the exact Tsallis-INF distribution) by default: with wall-time costs it came within
  /// 1.10-1.13 of the best fixed configuration over 1000 Darcy solves where the reference normaliser
  /// ranged from 1.14 to 1.53 (tune_solver_configs, three seeds each).
  std::string tsallis_normaliser = "safeguarded";
  std::uint64_t seed = 0;
};
/// Builds the learner; a bad learner name, arm count or fixed arm is an Error naming the field.
std::unique_ptr<BanditLearner> make_arm_set_learner(const ArmSetConfig& config);

/// Hindsight baselines from a table of costs[instance][arm] of every arm on every instance.
struct HindsightBaselines {
  int best_fixed_arm = 0;
  double best_fixed_total = 0;        ///< total cost of the best single arm
  double per_instance_min_total = 0;  ///< total cost of the per-instance grid minimum
};
HindsightBaselines hindsight_baselines(const std::vector<std::vector<double>>& costs);

}  // namespace neurops::solvers
