#include "neurops/solvers/bandits.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <sstream>

#include "neurops/core/error.hpp"

namespace neurops::solvers {

namespace {
// Index drawn with probability proportional to non-negative weights; -1 when the weights cannot
// define a distribution (NaN, infinite, negative or all zero).
int sample_proportional(Rng& rng, const std::vector<double>& w) {
  double total = 0;
  for (double v : w) {
    if (!std::isfinite(v) || v < 0) return -1;
    total += v;
  }
  if (!(total > 0) || !std::isfinite(total)) return -1;
  const double u = rng.uniform() * total;
  double acc = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    acc += w[i];
    if (u < acc) return static_cast<int>(i);
  }
  for (std::size_t i = w.size(); i-- > 0;)  // rounding at the top end
    if (w[i] > 0) return static_cast<int>(i);
  return -1;
}

// ---- learner state entries (TunerState) ----------------------------------------------------------
void put(TunerState& s, const std::string& name, std::vector<double> v) { s.reals[name] = std::move(v); }
void put_ints(TunerState& s, const std::string& name, std::vector<std::int64_t> v) { s.integers[name] = std::move(v); }

/// The real entry `name` with `n` finite values; an Error naming the entry otherwise.
const std::vector<double>& reals(const TunerState& s, const std::string& name, std::size_t n) {
  const auto it = s.reals.find(name);
  NEUROPS_CHECK(it != s.reals.end(), "learner state: real entry '" << name << "' is missing");
  NEUROPS_CHECK(it->second.size() == n,
                "learner state: entry '" << name << "' has " << it->second.size() << " values, expected " << n);
  for (std::size_t i = 0; i < n; ++i)
    NEUROPS_CHECK(std::isfinite(it->second[i]), "learner state: entry '" << name << "'[" << i << "] is "
                                                                         << it->second[i]
                                                                         << ", expected a finite value");
  return it->second;
}
double real(const TunerState& s, const std::string& name) { return reals(s, name, 1)[0]; }

const std::vector<std::int64_t>& integers(const TunerState& s, const std::string& name, std::size_t n) {
  const auto it = s.integers.find(name);
  NEUROPS_CHECK(it != s.integers.end(), "learner state: integer entry '" << name << "' is missing");
  NEUROPS_CHECK(it->second.size() == n,
                "learner state: entry '" << name << "' has " << it->second.size() << " values, expected " << n);
  return it->second;
}
std::int64_t integer(const TunerState& s, const std::string& name) { return integers(s, name, 1)[0]; }

// The generator as five integers (the four xoshiro words bit for bit, the spare-normal flag) and the
// spare normal: restoring them continues the exact random stream.
void put_rng(TunerState& s, const std::string& prefix, const Rng& rng) {
  const auto st = rng.state();
  const auto signed_words = st.signed_words();
  std::vector<std::int64_t> words(signed_words.begin(), signed_words.end());
  words.push_back(st.has_spare_normal ? 1 : 0);
  put_ints(s, prefix + "rng", std::move(words));
  put(s, prefix + "rng_spare_normal", {st.spare_normal});
}
Rng::State get_rng(const TunerState& s, const std::string& prefix) {
  const auto& words = integers(s, prefix + "rng", 5);
  Rng::State st;
  st.set_signed_words(words.data());
  NEUROPS_CHECK(st.s[0] || st.s[1] || st.s[2] || st.s[3],
                "learner state: entry '" << prefix << "rng' is all zero, which is no xoshiro256** state");
  NEUROPS_CHECK(words[4] == 0 || words[4] == 1,
                "learner state: entry '" << prefix << "rng'[4] is " << words[4] << ", expected 0 or 1");
  st.has_spare_normal = words[4] == 1;
  st.spare_normal = real(s, prefix + "rng_spare_normal");
  return st;
}

constexpr std::int64_t kMaxRounds = std::int64_t(1) << 40;

/// `a` and `b` are the same sum accumulated in another order.
bool same_sum(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)}); }
}  // namespace

std::vector<double> linspace(double lo, double hi, int n) {
  NEUROPS_CHECK(n >= 1, "linspace: expected at least one point, found " << n);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = n == 1 ? lo : lo + (hi - lo) * double(i) / double(n - 1);
  if (n > 1) v.back() = hi;  // exact end point, as MATLAB's linspace
  return v;
}

// ---------------------------------------------------------------------------------------------
BanditLearner::BanditLearner(std::vector<double> arms)
    : arms_(std::move(arms)), pulls_(arms_.size(), 0), cost_sums_(arms_.size(), 0.0) {
  NEUROPS_CHECK(!arms_.empty(), "BanditLearner: expected at least one arm");
  for (double w : arms_) NEUROPS_CHECK(std::isfinite(w), "BanditLearner: every arm label must be finite, found " << w);
}

double BanditLearner::choose(double context) {
  last_arm_ = pick(context);
  return arms_[static_cast<std::size_t>(last_arm_)];
}

void BanditLearner::observe(double cost) {
  NEUROPS_CHECK(last_arm_ >= 0, name() << " tuner: observe() called before choose()");
  NEUROPS_CHECK(std::isfinite(cost), name() << " tuner: expected a finite cost, found " << cost);
  ++pulls_[static_cast<std::size_t>(last_arm_)];
  cost_sums_[static_cast<std::size_t>(last_arm_)] += cost;
  ++rounds_;
  learn(cost);
}

void BanditLearner::export_state(TunerState& s, const std::string& p) const {
  put_ints(s, p + "rounds", {rounds_});
  put_ints(s, p + "last_arm", {last_arm_});
  put_ints(s, p + "pulls", pulls_);
  put(s, p + "cost_sums", cost_sums_);
  export_own(s, p);
}

void BanditLearner::import_state(const TunerState& s, const std::string& p) {
  const auto arms = arms_.size();
  const std::int64_t rounds = integer(s, p + "rounds"), last = integer(s, p + "last_arm");
  NEUROPS_CHECK(rounds >= 0 && rounds < kMaxRounds,
                "learner state: entry '" << p << "rounds' is " << rounds << ", expected 0 <= rounds < 2^40");
  const auto& pulls = integers(s, p + "pulls", arms);
  const auto& sums = reals(s, p + "cost_sums", arms);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < arms; ++i) {
    NEUROPS_CHECK(pulls[i] >= 0 && pulls[i] <= rounds, "learner state: entry '" << p << "pulls'[" << i << "] is "
                                                                                << pulls[i] << ", expected 0.."
                                                                                << rounds << " (the rounds)");
    NEUROPS_CHECK(pulls[i] > 0 || sums[i] == 0, "learner state: entry '" << p << "cost_sums'[" << i << "] is "
                                                                         << sums[i] << " for an arm never played");
    total += pulls[i];
  }
  NEUROPS_CHECK(total == rounds, "learner state: the entries '" << p << "pulls' add up to " << total << " but '" << p
                                                                << "rounds' is " << rounds);
  NEUROPS_CHECK(last >= -1 && last < std::int64_t(arms) && (rounds == 0 || last >= 0),
                "learner state: entry '" << p << "last_arm' is " << last << ", expected -1.." << arms - 1
                                         << (rounds > 0 ? " and not -1 after a round" : ""));
  rounds_ = rounds;
  last_arm_ = static_cast<int>(last);
  pulls_ = pulls;
  cost_sums_ = sums;
  import_own(s, p);
}

std::vector<double> BanditLearner::mean_costs() const {
  std::vector<double> m(arms_.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < arms_.size(); ++i)
    if (pulls_[i] > 0) m[i] = cost_sums_[i] / double(pulls_[i]);
  return m;
}

std::string BanditLearner::summary() const {
  std::ostringstream os;
  const auto means = mean_costs();
  std::size_t best = 0;
  for (std::size_t i = 1; i < arms_.size(); ++i)
    if (pulls_[i] > pulls_[best]) best = i;
  os << name() << " over " << rounds_ << " solves, " << arms_.size() << " arms; most played omega = " << arms_[best]
     << " (" << pulls_[best] << " times, mean cost " << means[best] << ")\n";
  os << "  omega  pulls  mean cost\n";
  for (std::size_t i = 0; i < arms_.size(); ++i) {
    if (pulls_[i] == 0) continue;
    char line[96];
    std::snprintf(line, sizeof line, "  %5.3f  %5lld  %9.2f\n", arms_[i], static_cast<long long>(pulls_[i]), means[i]);
    os << line;
  }
  return os.str();
}

FixedOmega::FixedOmega(double omega) : BanditLearner({omega}) {
  NEUROPS_CHECK(omega > 0 && omega < 2, "FixedOmega: omega must lie in (0, 2), found " << omega);
}

// ---------------------------------------------------------------------------------------------
TsallisInf::TsallisInf(std::vector<double> arms, std::uint64_t seed, TsallisNormaliser normaliser)
    : BanditLearner(std::move(arms)), rng_(seed), normaliser_(normaliser), cumulative_(arms_.size(), 0.0) {}

std::vector<double> TsallisInf::weights() const {
  const double eta = 2.0 / std::sqrt(double(t_));
  const auto n = cumulative_.size();
  std::vector<double> p(n);
  auto evaluate = [&](double x, double& sum, double& sum32) {
    sum = sum32 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double q = eta * (cumulative_[i] / scale_ - x);
      p[i] = 4.0 / (q * q);
      sum += p[i];
      sum32 += p[i] * std::sqrt(p[i]);
    }
  };
  double x = -1.0, sum = 0, sum32 = 0;
  if (normaliser_ == TsallisNormaliser::reference) {
    // As learners/TsallisINF.m: 20 Newton steps from x = -1; the weights are those evaluated at the
    // last iterate before its update.
    for (int newton = 0; newton < 20; ++newton) {
      evaluate(x, sum, sum32);
      x -= (sum - 1.0) / (eta * sum32);
    }
    return p;
  }
  // f(x) = sum_i 4 (eta (K_i/s - x))^{-2} - 1 is convex and increasing for x < min_i K_i/s, so
  // Newton converges monotonically from any start where f >= 0. Once losses have grown, x = -1 lies
  // left of the root (f(-1) < 0) and the first Newton step can jump past the pole at min K_i/s;
  // then we start at min K_i/s - 2/eta instead, where the best arm alone has weight 1.
  const double pole = *std::min_element(cumulative_.begin(), cumulative_.end()) / scale_;
  if (!(x < pole)) x = pole - 2.0 / eta;
  evaluate(x, sum, sum32);
  if (sum < 1.0) {
    x = pole - 2.0 / eta;
    evaluate(x, sum, sum32);
  }
  for (int newton = 0; newton < 20; ++newton) {
    x -= (sum - 1.0) / (eta * sum32);
    evaluate(x, sum, sum32);
  }
  return p;
}

std::vector<double> TsallisInf::probabilities() const {
  auto p = weights();
  const double sum = std::accumulate(p.begin(), p.end(), 0.0);
  if (!(sum > 0) || !std::isfinite(sum)) return std::vector<double>(p.size(), 1.0 / double(p.size()));
  for (auto& v : p) v /= sum;
  return p;
}

int TsallisInf::pick(double) {
  const auto w = weights();
  int i = sample_proportional(rng_, w);  // randsample normalises the weights
  if (i < 0) {                           // degenerate weights: play uniformly
    i = static_cast<int>(rng_.integer(w.size()));
    played_prob_ = 1.0 / double(w.size());
  } else {
    // The importance weight uses the arm's weight itself, as the reference does (it equals the
    // sampling probability when the normaliser has converged).
    played_prob_ = w[static_cast<std::size_t>(i)];
  }
  return i;
}

void TsallisInf::learn(double cost) {
  cost_sum_ += cost;
  const double mean_minus_one = cost_sum_ / double(t_) - 1.0;
  // s = mean(cost) - 1; it is zero only while every solve took one iteration, where K_i = 0 too,
  // so the previous scale is kept to avoid 0/0.
  if (mean_minus_one > 0) scale_ = mean_minus_one;
  cumulative_[static_cast<std::size_t>(last_arm())] += (cost - 1.0) / played_prob_;
  ++t_;
}

void TsallisInf::export_own(TunerState& s, const std::string& p) const {
  put(s, p + "cumulative", cumulative_);
  put(s, p + "scale", {scale_});
  put(s, p + "cost_sum", {cost_sum_});
  put(s, p + "played_prob", {played_prob_});
  put_ints(s, p + "t", {t_});
  put_rng(s, p, rng_);
}

void TsallisInf::import_own(const TunerState& s, const std::string& p) {
  const auto& cumulative = reals(s, p + "cumulative", arms_.size());
  const double scale = real(s, p + "scale"), cost_sum = real(s, p + "cost_sum"), played = real(s, p + "played_prob");
  const std::int64_t t = integer(s, p + "t");
  NEUROPS_CHECK(scale > 0, "learner state: entry '" << p << "scale' is " << scale << ", expected > 0");
  NEUROPS_CHECK(played > 0, "learner state: entry '" << p << "played_prob' is " << played << ", expected > 0");
  NEUROPS_CHECK(t == rounds() + 1,
                "learner state: entry '" << p << "t' is " << t << ", expected rounds + 1 = " << rounds() + 1);
  const auto& sums = reals(s, p + "cost_sums", arms_.size());
  const double total = std::accumulate(sums.begin(), sums.end(), 0.0);
  NEUROPS_CHECK(same_sum(cost_sum, total), "learner state: entry '" << p << "cost_sum' is " << cost_sum << " but '" << p
                                                                    << "cost_sums' add up to " << total);
  rng_.set_state(get_rng(s, p));
  cumulative_ = cumulative;
  scale_ = scale;
  cost_sum_ = cost_sum;
  played_prob_ = played;
  t_ = t;
}

// ---------------------------------------------------------------------------------------------
ChebCB::ChebCB(std::vector<double> arms, double context_lo, double context_hi, std::uint64_t seed, int features)
    : BanditLearner(std::move(arms)), rng_(seed), m_(features), lo_(context_lo), width_(context_hi - context_lo) {
  NEUROPS_CHECK(features >= 1 && features <= 32, "ChebCB: expected 1..32 Chebyshev features, found " << features);
  NEUROPS_CHECK(width_ > 0, "ChebCB: context interval [" << context_lo << ", " << context_hi << "] is empty");
  const auto d = arms_.size();
  theta_ = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(d), m_);
  gram_.assign(d, Eigen::MatrixXd::Zero(m_, m_));
  moment_.assign(d, Eigen::VectorXd::Zero(m_));
  square_.assign(d, 0.0);
}

ChebCB::~ChebCB() = default;

Eigen::VectorXd ChebCB::features(double context) const {
  const double x = std::clamp(2.0 / width_ * (context - lo_) - 1.0, -1.0, 1.0);
  Eigen::VectorXd f(m_);
  f(0) = 1.0;
  if (m_ > 1) f(1) = x;
  for (int j = 2; j < m_; ++j) f(j) = 2.0 * x * f(j - 1) - f(j - 2);
  return f;
}

std::vector<double> ChebCB::predicted_costs(double context) const {
  const Eigen::VectorXd y = theta_ * features(context);
  std::vector<double> out(arms_.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = 1.0 + scale_ * y(static_cast<Eigen::Index>(i));
  return out;
}

int ChebCB::pick(double context) {
  last_features_ = features(context);
  const Eigen::VectorXd yhat = theta_ * last_features_;
  Eigen::Index best = 0;
  for (Eigen::Index i = 1; i < yhat.size(); ++i)
    if (yhat(i) < yhat(best)) best = i;
  const double d = double(arms_.size());
  std::vector<double> p(arms_.size());
  double others = 0;
  for (Eigen::Index i = 0; i < yhat.size(); ++i) {
    if (i == best) continue;
    const double gap = yhat(i) - yhat(best);
    p[static_cast<std::size_t>(i)] = gap > 0 ? 1.0 / (d + eta_ * gap) : 1.0 / d;
    others += p[static_cast<std::size_t>(i)];
  }
  p[static_cast<std::size_t>(best)] = std::max(0.0, 1.0 - others);
  int i = sample_proportional(rng_, p);
  if (i < 0) i = static_cast<int>(best);
  pending_prediction_ = theta_.row(i).dot(last_features_);
  return i;
}

void ChebCB::fit_arm(int arm, const Eigen::VectorXd& lb, const Eigen::VectorXd& ub, double& resnorm) {
  const auto a = static_cast<std::size_t>(arm);
  const Eigen::MatrixXd& G = gram_[a];
  const Eigen::VectorXd h = moment_[a] / scale_;     // F^T y
  const double yy = square_[a] / (scale_ * scale_);  // y^T y
  // Minimum-norm least squares: pinv(F) y = pinv(F^T F) F^T y.
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(G);
  cod.setThreshold(1e-12);
  Eigen::VectorXd th = cod.pseudoInverse() * h;
  bool outside = false;
  for (int j = 0; j < m_; ++j) outside = outside || std::abs(th(j)) > ub(j);
  if (outside) {
    // Box-constrained least squares min |F th - y|^2, lb <= th <= ub, by cyclic coordinate
    // descent on the normal equations, warm-started from the current coefficients.
    th = theta_.row(arm).transpose().cwiseMax(lb).cwiseMin(ub);
    for (int sweep = 0; sweep < 500; ++sweep) {
      double change = 0;
      for (int j = 0; j < m_; ++j) {
        if (G(j, j) <= 0) {
          th(j) = std::clamp(0.0, lb(j), ub(j));
          continue;
        }
        const double rest = G.row(j).dot(th) - G(j, j) * th(j);
        const double v = std::clamp((h(j) - rest) / G(j, j), lb(j), ub(j));
        change = std::max(change, std::abs(v - th(j)));
        th(j) = v;
      }
      if (change < 1e-14) break;
    }
    resnorm = std::max(0.0, th.dot(G * th) - 2.0 * th.dot(h) + yy);
  }
  theta_.row(arm) = th.transpose();
}

void ChebCB::learn(double cost) {
  const auto arm = static_cast<std::size_t>(last_arm());
  ++observed_;
  gram_[arm] += last_features_ * last_features_.transpose();
  moment_[arm] += last_features_ * (cost - 1.0);
  square_[arm] += (cost - 1.0) * (cost - 1.0);
  if (observed_ == 1) max_cost_ = min_cost_ = cost;
  max_cost_ = std::max(max_cost_, cost);
  min_cost_ = std::min(min_cost_, cost);

  const double K = max_cost_;
  const double L = (max_cost_ - min_cost_) / width_;
  const double N = 2.0 + 4.0 * width_ * L / K * (1.0 + std::log(double(m_)));
  const bool rescaled = scale_ != K * N;
  scale_ = K * N;
  Eigen::VectorXd ub(m_);
  ub(0) = 1.0 / N;
  for (int j = 1; j < m_; ++j) ub(j) = 2.0 * width_ * L / scale_ / double(j);
  const Eigen::VectorXd lb = -ub;

  double resnorm = 0;  // residual of the last bounded refit in this round, as in the reference
  for (std::size_t i = 0; i < arms_.size(); ++i)
    if ((rescaled || i == arm) && pulls()[i] > 0) fit_arm(static_cast<int>(i), lb, ub, resnorm);

  const double t = double(observed_);
  const double alpha =
      (std::numbers::pi + 2.0 / std::numbers::pi * std::log(2.0 * m_ + 1.0)) / (2.0 * scale_ * (m_ + 1.0)) * width_ * L;
  // R = sum_s (predicted_s - cost_s / (K N))^2 from running sums, O(1) per round.
  sum_pp_ += pending_prediction_ * pending_prediction_;
  sum_pc_ += pending_prediction_ * cost;
  sum_cc_ += cost * cost;
  const double inv = 1.0 / (K * N);
  const double R = std::max(0.0, sum_pp_ - 2.0 * inv * sum_pc_ + inv * inv * sum_cc_);
  const double denominator = std::max(R - resnorm + 2.0 * alpha * alpha * t, 1e-300);
  eta_ = 2.0 * t * std::sqrt(double(arms_.size()) * t / denominator);
}

void ChebCB::export_own(TunerState& s, const std::string& p) const {
  const auto d = arms_.size();
  const auto m = static_cast<std::size_t>(m_);
  std::vector<double> theta(d * m), gram(d * m * m), moment(d * m), last(m, 0.0);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < m; ++j) {  // row-major, as the file stores them
      theta[i * m + j] = theta_(Eigen::Index(i), Eigen::Index(j));
      moment[i * m + j] = moment_[i](Eigen::Index(j));
      for (std::size_t k = 0; k < m; ++k) gram[(i * m + j) * m + k] = gram_[i](Eigen::Index(j), Eigen::Index(k));
    }
  if (last_features_.size() == m_)
    for (std::size_t j = 0; j < m; ++j) last[j] = last_features_(Eigen::Index(j));
  put(s, p + "theta", std::move(theta));
  put(s, p + "gram", std::move(gram));
  put(s, p + "moment", std::move(moment));
  put(s, p + "square", square_);
  put(s, p + "last_features", std::move(last));
  put(s, p + "running_sums", {sum_pp_, sum_pc_, sum_cc_});
  put(s, p + "cost_range", {min_cost_, max_cost_});
  put(s, p + "eta", {eta_});
  put(s, p + "scale", {scale_});
  put(s, p + "pending_prediction", {pending_prediction_});
  put_ints(s, p + "observed", {observed_});
  put_rng(s, p, rng_);
}

void ChebCB::import_own(const TunerState& s, const std::string& p) {
  const auto d = arms_.size();
  const auto m = static_cast<std::size_t>(m_);
  const auto& theta = reals(s, p + "theta", d * m);
  const auto& gram = reals(s, p + "gram", d * m * m);
  const auto& moment = reals(s, p + "moment", d * m);
  const auto& square = reals(s, p + "square", d);
  const auto& last = reals(s, p + "last_features", m);
  const auto& sums = reals(s, p + "running_sums", 3);
  const auto& range = reals(s, p + "cost_range", 2);
  const double eta = real(s, p + "eta"), scale = real(s, p + "scale");
  const std::int64_t observed = integer(s, p + "observed");
  NEUROPS_CHECK(observed == rounds(),
                "learner state: entry '" << p << "observed' is " << observed << " but 'rounds' is " << rounds());
  NEUROPS_CHECK(range[0] <= range[1], "learner state: entry '" << p << "cost_range' is [" << range[0] << ", "
                                                               << range[1] << "], expected min <= max");
  NEUROPS_CHECK(eta >= 0 && scale >= 0 && sums[0] >= 0 && sums[2] >= 0,
                "learner state: negative eta, scale or sum of squares (entries '"
                    << p << "eta' = " << eta << ", '" << p << "scale' = " << scale << ", '" << p << "running_sums' = ["
                    << sums[0] << ", " << sums[1] << ", " << sums[2] << "])");
  for (std::size_t i = 0; i < d; ++i) {
    NEUROPS_CHECK(square[i] >= 0, "learner state: entry '" << p << "square'[" << i << "] is " << square[i]
                                                           << ", expected a sum of squares >= 0");
    for (std::size_t j = 0; j < m; ++j) {
      theta_(Eigen::Index(i), Eigen::Index(j)) = theta[i * m + j];
      moment_[i](Eigen::Index(j)) = moment[i * m + j];
      for (std::size_t k = 0; k < m; ++k) gram_[i](Eigen::Index(j), Eigen::Index(k)) = gram[(i * m + j) * m + k];
    }
  }
  square_ = square;
  last_features_ = Eigen::VectorXd();
  if (last_arm() >= 0) last_features_ = Eigen::Map<const Eigen::VectorXd>(last.data(), m_);
  sum_pp_ = sums[0];
  sum_pc_ = sums[1];
  sum_cc_ = sums[2];
  min_cost_ = range[0];
  max_cost_ = range[1];
  eta_ = eta;
  scale_ = scale;
  pending_prediction_ = real(s, p + "pending_prediction");
  observed_ = observed;
  rng_.set_state(get_rng(s, p));
}

std::string ChebCB::summary() const {
  std::ostringstream os;
  os << BanditLearner::summary();
  os << "  eta = " << eta_ << ", cost scale = " << scale_ << "; greedy omega across the context range:";
  for (int k = 0; k <= 4; ++k) {
    const double c = lo_ + width_ * k / 4.0;
    const auto pc = predicted_costs(c);
    const auto best = std::min_element(pc.begin(), pc.end()) - pc.begin();
    os << " c=" << c << "->" << arms_[static_cast<std::size_t>(best)];
  }
  os << "\n";
  return os.str();
}

// ---------------------------------------------------------------------------------------------
BinnedTsallisInf::BinnedTsallisInf(std::vector<double> arms, int bins, double context_lo, double context_hi,
                                   std::uint64_t seed, TsallisNormaliser normaliser)
    : BanditLearner(arms) {
  NEUROPS_CHECK(bins >= 1, "BinnedTsallisInf: expected at least one bin, found " << bins);
  NEUROPS_CHECK(context_hi > context_lo,
                "BinnedTsallisInf: context interval [" << context_lo << ", " << context_hi << "] is empty");
  const auto fractions = linspace(0.5 / bins, 1.0 - 0.5 / bins, bins);
  for (int b = 0; b < bins; ++b) {
    bins_.emplace_back(arms, seed * 1000003ull + std::uint64_t(b), normaliser);
    centres_.push_back(context_lo + (context_hi - context_lo) * fractions[static_cast<std::size_t>(b)]);
  }
}

int BinnedTsallisInf::pick(double context) {
  active_ = 0;
  for (std::size_t b = 1; b < centres_.size(); ++b)
    if (std::abs(centres_[b] - context) < std::abs(centres_[static_cast<std::size_t>(active_)] - context))
      active_ = static_cast<int>(b);
  auto& learner = bins_[static_cast<std::size_t>(active_)];
  learner.choose(context);
  return learner.last_arm();
}

void BinnedTsallisInf::learn(double cost) { bins_[static_cast<std::size_t>(active_)].observe(cost); }

void BinnedTsallisInf::export_own(TunerState& s, const std::string& p) const {
  put_ints(s, p + "active_bin", {active_});
  for (std::size_t b = 0; b < bins_.size(); ++b) bins_[b].export_state(s, p + "bin" + std::to_string(b) + "/");
}

void BinnedTsallisInf::import_own(const TunerState& s, const std::string& p) {
  const std::int64_t active = integer(s, p + "active_bin");
  NEUROPS_CHECK(active >= 0 && active < std::int64_t(bins_.size()),
                "learner state: entry '" << p << "active_bin' is " << active << ", expected 0.." << bins_.size() - 1);
  std::int64_t rounds = 0;
  std::vector<std::int64_t> pulls(arms_.size(), 0);
  for (std::size_t b = 0; b < bins_.size(); ++b) {
    bins_[b].import_state(s, p + "bin" + std::to_string(b) + "/");
    rounds += bins_[b].rounds();
    for (std::size_t i = 0; i < arms_.size(); ++i) pulls[i] += bins_[b].pulls()[i];
  }
  NEUROPS_CHECK(rounds == this->rounds() && pulls == this->pulls(),
                "learner state: the bins' rounds and pulls (" << rounds << " rounds) do not add up to the learner's ("
                                                              << this->rounds() << " rounds)");
  active_ = static_cast<int>(active);
}

std::string BinnedTsallisInf::summary() const {
  std::ostringstream os;
  os << BanditLearner::summary();
  for (std::size_t b = 0; b < bins_.size(); ++b) {
    const auto& p = bins_[b].pulls();
    const auto best = std::max_element(p.begin(), p.end()) - p.begin();
    os << "  bin centred at " << centres_[b] << ": " << bins_[b].rounds() << " solves, most played omega "
       << arms_[static_cast<std::size_t>(best)] << "\n";
  }
  return os.str();
}

// ---------------------------------------------------------------------------------------------
std::unique_ptr<BanditLearner> make_tuner(const TunerConfig& c) {
  NEUROPS_CHECK(c.arms >= 1, "tuner: expected at least one arm, found " << c.arms);
  NEUROPS_CHECK(c.omega_min > 0 && c.omega_max < 2 && c.omega_min <= c.omega_max,
                "tuner: omega range must satisfy 0 < omega_min <= omega_max < 2, found [" << c.omega_min << ", "
                                                                                          << c.omega_max << "]");
  NEUROPS_CHECK(c.context_hi > c.context_lo,
                "tuner: context range must be non-empty, found [" << c.context_lo << ", " << c.context_hi << "]");
  const auto grid = linspace(c.omega_min, c.omega_max, c.arms);
  NEUROPS_CHECK(
      c.tsallis_normaliser == "reference" || c.tsallis_normaliser == "safeguarded",
      "tuner: unknown Tsallis-INF normaliser '" << c.tsallis_normaliser << "', expected reference or safeguarded");
  const auto normaliser =
      c.tsallis_normaliser == "reference" ? TsallisNormaliser::reference : TsallisNormaliser::safeguarded;
  if (c.learner == "tsallis") return std::make_unique<TsallisInf>(grid, c.seed, normaliser);
  if (c.learner == "chebcb") return std::make_unique<ChebCB>(grid, c.context_lo, c.context_hi, c.seed, c.features);
  if (c.learner == "binned")
    return std::make_unique<BinnedTsallisInf>(grid, c.bins, c.context_lo, c.context_hi, c.seed, normaliser);
  if (c.learner == "fixed") {
    NEUROPS_CHECK(c.fixed_omega > 0 && c.fixed_omega < 2,
                  "tuner: fixed omega must lie in (0, 2), found " << c.fixed_omega);
    return std::make_unique<FixedOmega>(c.fixed_omega);
  }
  NEUROPS_THROW("tuner: unknown learner '" << c.learner << "', expected tsallis, chebcb, binned or fixed");
}

FixedArm::FixedArm(std::vector<double> arms, int arm) : BanditLearner(std::move(arms)), arm_(arm) {
  NEUROPS_CHECK(arm >= 0 && arm < static_cast<int>(arms_.size()),
                "FixedArm: arm " << arm << " out of range, expected 0.." << arms_.size() - 1);
}

std::unique_ptr<BanditLearner> make_arm_set_learner(const ArmSetConfig& c) {
  NEUROPS_CHECK(c.arms >= 1, "arm-set learner: expected at least one arm, found " << c.arms);
  std::vector<double> labels(static_cast<std::size_t>(c.arms));
  std::iota(labels.begin(), labels.end(), 0.0);
  if (c.learner == "fixed") {
    NEUROPS_CHECK(c.fixed_arm >= 0 && c.fixed_arm < c.arms,
                  "arm-set learner: fixed arm " << c.fixed_arm << " out of range, expected 0.." << c.arms - 1);
    return std::make_unique<FixedArm>(labels, c.fixed_arm);
  }
  NEUROPS_CHECK(c.learner == "tsallis",
                "arm-set learner: unknown learner '" << c.learner << "', expected tsallis or fixed");
  NEUROPS_CHECK(c.tsallis_normaliser == "reference" || c.tsallis_normaliser == "safeguarded",
                "arm-set learner: unknown Tsallis-INF normaliser '" << c.tsallis_normaliser
                                                                    << "', expected reference or safeguarded");
  return std::make_unique<TsallisInf>(
      labels, c.seed,
      c.tsallis_normaliser == "reference" ? TsallisNormaliser::reference : TsallisNormaliser::safeguarded);
}

HindsightBaselines hindsight_baselines(const std::vector<std::vector<double>>& costs) {
  NEUROPS_CHECK(!costs.empty() && !costs[0].empty(), "hindsight_baselines: empty cost table");
  const std::size_t arms = costs[0].size();
  std::vector<double> totals(arms, 0.0);
  HindsightBaselines out;
  for (const auto& row : costs) {
    NEUROPS_CHECK(row.size() == arms, "hindsight_baselines: rows have " << row.size() << " and " << arms << " arms");
    for (std::size_t a = 0; a < arms; ++a) totals[a] += row[a];
    out.per_instance_min_total += *std::min_element(row.begin(), row.end());
  }
  out.best_fixed_arm = static_cast<int>(std::min_element(totals.begin(), totals.end()) - totals.begin());
  out.best_fixed_total = totals[static_cast<std::size_t>(out.best_fixed_arm)];
  return out;
}

}  // namespace neurops::solvers
