// Bandit learners: the Tsallis-INF distribution, learning on synthetic costs, determinism,
// ChebCB's bounded refit and context use, and the hindsight baselines.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numeric>

#include "neurops/core/error.hpp"
#include "neurops/solvers/bandits.hpp"

using namespace neurops;
using namespace neurops::solvers;

namespace {
// Deterministic cost surface: a parabola in omega with its minimum at omega_best(context), plus
// seeded noise, floored at 1 (iteration counts).
double synthetic_cost(double omega, double context, Rng& noise) {
  const double best = 1.2 + 0.6 * context;  // context in [0, 1] -> best omega 1.2 .. 1.8
  return std::max(1.0, std::round(20.0 + 400.0 * (omega - best) * (omega - best) + 2.0 * noise.normal()));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(bandits)

BOOST_AUTO_TEST_CASE(linspace_matches_matlab) {
  const auto g = linspace(1.0, 1.95, 20);
  BOOST_TEST(g.size() == 20u);
  BOOST_TEST(g.front() == 1.0);
  BOOST_TEST(g.back() == 1.95);
  BOOST_TEST(g[16] == 1.8, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(tsallis_probabilities_are_a_distribution) {
  TsallisInf t(linspace(1.0, 1.95, 20), 1);
  auto p = t.probabilities();
  BOOST_TEST(std::accumulate(p.begin(), p.end(), 0.0) == 1.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(p[0] == 0.05, boost::test_tools::tolerance(1e-9));  // uniform before any loss
  Rng noise(5);
  for (int round = 0; round < 300; ++round) {
    const double w = t.choose();
    t.observe(synthetic_cost(w, 0.5, noise));
  }
  p = t.probabilities();
  BOOST_TEST(std::accumulate(p.begin(), p.end(), 0.0) == 1.0, boost::test_tools::tolerance(1e-6));
  for (double v : p) BOOST_TEST(v > 0.0);
  // The safeguarded normaliser solves sum_i p_i = 1 itself, on the same loss history.
  TsallisInf safe(linspace(1.0, 1.95, 20), 1, TsallisNormaliser::safeguarded);
  Rng noise2(5);
  for (int round = 0; round < 300; ++round) {
    const double w = safe.choose();
    safe.observe(synthetic_cost(w, 0.5, noise2));
    const auto weights = safe.weights();
    BOOST_TEST(std::accumulate(weights.begin(), weights.end(), 0.0) == 1.0, boost::test_tools::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(tsallis_finds_the_best_fixed_arm) {
  for (auto normaliser : {TsallisNormaliser::reference, TsallisNormaliser::safeguarded}) {
    const auto arms = linspace(1.0, 1.95, 20);
    TsallisInf t(arms, 42, normaliser);
    Rng noise(9);
    double total = 0;
    const int T = 3000;
    for (int round = 0; round < T; ++round) {
      const double w = t.choose();
      const double c = synthetic_cost(w, 0.5, noise);  // best omega 1.5 (arm 10)
      total += c;
      t.observe(c);
    }
    const auto& pulls = t.pulls();
    const auto best = std::max_element(pulls.begin(), pulls.end()) - pulls.begin();
    BOOST_TEST_MESSAGE(t.summary());
    BOOST_TEST(std::abs(arms[static_cast<std::size_t>(best)] - 1.5) < 0.06);
    // Regret against the best fixed arm (cost about 20 per round) is sublinear: well below the
    // uniform policy's mean cost (~65) and within 25% of the optimum over 3000 rounds.
    BOOST_TEST(total / T < 25.0);
  }
}

BOOST_AUTO_TEST_CASE(learners_are_deterministic_per_seed) {
  for (const std::string learner : {"tsallis", "chebcb", "binned"}) {
    auto run = [&](std::uint64_t seed) {
      auto tuner = make_tuner({.learner = learner, .context_lo = 0.0, .context_hi = 1.0, .seed = seed});
      Rng noise(3), ctx(4);
      std::vector<double> chosen;
      for (int round = 0; round < 200; ++round) {
        const double c = ctx.uniform();
        const double w = tuner->choose(c);
        chosen.push_back(w);
        tuner->observe(synthetic_cost(w, c, noise));
      }
      return chosen;
    };
    BOOST_TEST(run(1) == run(1));
    BOOST_TEST(run(1) != run(2));
  }
}

BOOST_AUTO_TEST_CASE(chebcb_uses_the_context) {
  const auto arms = linspace(1.0, 1.95, 20);
  ChebCB cheb(arms, 0.0, 1.0, 17);
  TsallisInf plain(arms, 17);
  Rng noise(1), ctx(2), noise2(1), ctx2(2);
  double cheb_total = 0, plain_total = 0, optimal_total = 0;
  const int T = 3000;
  for (int round = 0; round < T; ++round) {
    const double c = ctx.uniform();
    const double w = cheb.choose(c);
    const double cost = synthetic_cost(w, c, noise);
    cheb.observe(cost);
    cheb_total += cost;
    const double c2 = ctx2.uniform();
    const double w2 = plain.choose(c2);
    const double cost2 = synthetic_cost(w2, c2, noise2);
    plain.observe(cost2);
    plain_total += cost2;
    double best = 1e300;
    for (double a : arms) best = std::min(best, 20.0 + 400.0 * (a - 1.2 - 0.6 * c2) * (a - 1.2 - 0.6 * c2));
    optimal_total += std::max(1.0, best);
  }
  BOOST_TEST_MESSAGE("ChebCB " << cheb_total / T << ", Tsallis-INF " << plain_total / T << ", instance-optimal "
                               << optimal_total / T);
  BOOST_TEST_MESSAGE(cheb.summary());
  BOOST_TEST(cheb_total < 0.8 * plain_total);    // context helps
  BOOST_TEST(cheb_total < 1.3 * optimal_total);  // close to the instance-optimal policy
  // The learned model predicts the right arm at both ends of the context interval.
  for (double c : {0.05, 0.95}) {
    const auto pc = cheb.predicted_costs(c);
    const auto best = std::min_element(pc.begin(), pc.end()) - pc.begin();
    BOOST_TEST(std::abs(arms[static_cast<std::size_t>(best)] - (1.2 + 0.6 * c)) < 0.11);
  }
  BOOST_TEST(std::isfinite(cheb.eta()));
  BOOST_TEST(cheb.eta() > 0.0);
}

BOOST_AUTO_TEST_CASE(binned_learner_routes_contexts_to_bins) {
  BinnedTsallisInf binned(linspace(1.0, 1.95, 20), 5, 0.0, 1.0, 3);
  Rng noise(1);
  for (int round = 0; round < 500; ++round) {
    const double c = (round % 5) / 5.0 + 0.1;  // bin centres 0.1, 0.3, ... 0.9
    binned.observe(synthetic_cost(binned.choose(c), c, noise));
  }
  BOOST_TEST(binned.rounds() == 500);
  BOOST_TEST(binned.summary().find("bin centred at 0.9: 100 solves") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fixed_and_factory) {
  auto fixed = make_tuner({.learner = "fixed", .fixed_omega = 1.7});
  BOOST_TEST(fixed->choose(0.3) == 1.7);
  fixed->observe(12);
  BOOST_TEST(fixed->mean_costs()[0] == 12.0);
  BOOST_CHECK_EXCEPTION(make_tuner({.learner = "ucb"}), Error,
                        [](const Error& e) { return std::string(e.what()).find("'ucb'") != std::string::npos; });
  BOOST_CHECK_THROW(make_tuner({.context_lo = 1.0, .context_hi = 0.0}), Error);
  BOOST_CHECK_THROW(make_tuner({.tsallis_normaliser = "bisection"}), Error);
  BOOST_CHECK_THROW(make_tuner({.learner = "fixed", .fixed_omega = 2.0}), Error);
  TsallisInf t(linspace(1, 1.9, 4), 0);
  BOOST_CHECK_THROW(t.observe(3), Error);  // observe before choose
  t.choose();
  BOOST_CHECK_THROW(t.observe(std::nan("")), Error);
}

BOOST_AUTO_TEST_CASE(hindsight_baselines_pick_the_right_totals) {
  const std::vector<std::vector<double>> costs = {{10, 5, 7}, {3, 6, 9}, {8, 4, 1}};
  const auto h = hindsight_baselines(costs);
  BOOST_TEST(h.best_fixed_arm == 1);
  BOOST_TEST(h.best_fixed_total == 15.0);
  BOOST_TEST(h.per_instance_min_total == 9.0);
}

BOOST_AUTO_TEST_SUITE_END()
