# Fuzzing the readers with seeded corruptions (see tests/fuzz/test_fuzz.cpp). Seconds long here;
# NEUROPS_FUZZ_VARIANTS=2000 ctest -L fuzz (or test_fuzz -- --variants 2000) runs a long campaign.
neurops_add_test(NAME test_fuzz SOURCES fuzz/test_fuzz.cpp LABELS fuzz)
