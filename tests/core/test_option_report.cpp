// The unused-option report's suggestions: edit distance, typos, renamed options (docs/options.md).
#include <boost/test/unit_test.hpp>

#include "neurops/core/option_report.hpp"

using namespace neurops;

BOOST_AUTO_TEST_SUITE(option_report)

BOOST_AUTO_TEST_CASE(edit_distance_counts_insertions_deletions_substitutions_and_swaps) {
  BOOST_TEST(edit_distance("", "") == 0u);
  BOOST_TEST(edit_distance("abc", "") == 3u);
  BOOST_TEST(edit_distance("", "ab") == 2u);
  BOOST_TEST(edit_distance("-darcy_high", "-darcy_high") == 0u);
  BOOST_TEST(edit_distance("-darcy_hihg", "-darcy_high") == 1u);  // a swap of neighbours
  BOOST_TEST(edit_distance("-darcy_hig", "-darcy_high") == 1u);
  BOOST_TEST(edit_distance("-darcy_higher", "-darcy_high") == 2u);
  BOOST_TEST(edit_distance("-darcy_low", "-darcy_high") == 4u);
  BOOST_TEST(edit_distance("kitten", "sitting") == 3u);
  BOOST_TEST(edit_distance("sitting", "kitten") == 3u);
}

BOOST_AUTO_TEST_CASE(a_typo_gets_the_nearest_valid_name) {
  const std::vector<std::string> names = {"-darcy_high", "-darcy_low", "-darcy_n", "-gen_samples"};
  BOOST_TEST(suggest_option("-darcy_hihg", names) == "-darcy_high");
  BOOST_TEST(suggest_option("-darcy_lwo", names) == "-darcy_low");
  BOOST_TEST(suggest_option("-gen_sample", names) == "-gen_samples");
  // Nothing close: no suggestion rather than a wrong one.
  BOOST_TEST(suggest_option("-viscosity", names) == "");
  BOOST_TEST(suggest_option("-x", names) == "");
}

BOOST_AUTO_TEST_CASE(a_renamed_option_gets_its_new_name) {
  // -samples was both neurops_generate's and fno_train's: the one the program reads wins.
  BOOST_TEST(suggest_option("-samples", {"-gen_samples", "-gen_seed"}) == "-gen_samples");
  BOOST_TEST(suggest_option("-samples", {"-fno_samples", "-fno_data"}) == "-fno_samples");
  BOOST_TEST(suggest_option("-train_epochs", {}) == "-fno_epochs");
  BOOST_TEST(suggest_option("-ltr_tsallis_normaliser", {}) == "-ltr_tsallis_normalizer");
  // PETSc object options keep their own prefix.
  BOOST_TEST(suggest_option("-pc_sorbandit_tsallis_normaliser", {}) == "-pc_sorbandit_tsallis_normalizer");
  BOOST_TEST(suggest_option("-heat_pc_sorbandit_tsallis_normaliser", {}) == "-heat_pc_sorbandit_tsallis_normalizer");
  // Every old name of the table maps to a name under a prefix.
  for (const auto& r : option_renames()) {
    BOOST_TEST_INFO(r.old_name);
    BOOST_TEST(std::string(r.new_name).find('_') != std::string::npos);
    BOOST_TEST(std::string(r.old_name) != std::string(r.new_name));
  }
}

BOOST_AUTO_TEST_CASE(registered_names_and_solver_prefixes_are_candidates) {
  register_option_name("-unit_test_width");
  register_solver_prefix("unit_test_");
  const auto names = registered_option_names();
  BOOST_TEST(suggest_option("-unit_test_widht", names) == "-unit_test_width");
  BOOST_TEST(suggest_option("-unit_test_ksp_rtl", names) == "-unit_test_ksp_rtol");
  BOOST_TEST(suggest_option("-unit_test_pc_tpye", names) == "-unit_test_pc_type");
}

BOOST_AUTO_TEST_SUITE_END()
