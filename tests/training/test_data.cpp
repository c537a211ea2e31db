#define BOOST_TEST_MODULE neurops_training_data
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <numeric>
#include <set>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/data.hpp"

using namespace neurops;
using namespace neurops::nn;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(data)

BOOST_AUTO_TEST_CASE(split_is_a_seeded_partition) {
  const Split s = split_indices(100, 0.7, 0.1, 42);
  BOOST_TEST(s.train.size() == 70u);
  BOOST_TEST(s.validation.size() == 10u);
  BOOST_TEST(s.test.size() == 20u);
  std::set<index_t> all(s.train.begin(), s.train.end());
  all.insert(s.validation.begin(), s.validation.end());
  all.insert(s.test.begin(), s.test.end());
  BOOST_TEST(all.size() == 100u);
  BOOST_TEST((split_indices(100, 0.7, 0.1, 42).train == s.train));
  BOOST_TEST((split_indices(100, 0.7, 0.1, 43).train != s.train));
  const Split ordered = split_indices(10, 0.5, 0.2, 1, false);
  BOOST_TEST(ordered.train.front() == 0);
  BOOST_TEST(ordered.test.back() == 9);
}

BOOST_AUTO_TEST_CASE(empty_splits_are_errors) {
  BOOST_CHECK_THROW(split_indices(3, 0.2, 0.0, 1), Error);    // 0 training samples
  BOOST_CHECK_THROW(split_indices(10, 0.9, 0.05, 1), Error);  // 0 validation samples
  BOOST_CHECK_NO_THROW(split_indices(10, 0.9, 0.1, 1));       // no test split asked for
}

BOOST_AUTO_TEST_CASE(batches_cover_each_sample_once_per_epoch) {
  std::vector<index_t> idx(23);
  std::iota(idx.begin(), idx.end(), 100);
  BatchSampler sampler(idx, 5, true, 9);
  BOOST_TEST(sampler.num_batches() == 5);
  std::vector<index_t> seen;
  for (index_t b = 0; b < sampler.num_batches(); ++b)
    for (index_t i : sampler.batch(b)) seen.push_back(i);
  std::sort(seen.begin(), seen.end());
  BOOST_TEST(seen == idx);
  const auto epoch0 = sampler.batch(0);
  sampler.set_epoch(1);
  BOOST_TEST((sampler.batch(0) != epoch0));
  sampler.set_epoch(0);  // the same epoch gives the same order (exact resume)
  BOOST_TEST((sampler.batch(0) == epoch0));
  BOOST_CHECK_THROW(BatchSampler({}, 4, true, 1), Error);
  BOOST_CHECK_THROW(BatchSampler(idx, 0, true, 1), Error);
}

BOOST_AUTO_TEST_CASE(rank_shares_partition_a_batch) {
  index_t covered = 0;
  for (int r = 0; r < 3; ++r) {
    const auto [b, e] = rank_share(16, r, 3);
    BOOST_TEST(b == covered);
    BOOST_TEST((e - b == 5 || e - b == 6));
    covered = e;
  }
  BOOST_TEST(covered == 16);
}

BOOST_AUTO_TEST_CASE(subsampling_takes_every_stride_th_point) {
  Tensor<float> x({2, 1, 8, 8});
  for (index_t i = 0; i < x.numel(); ++i) x[i] = float(i);
  const auto y = subsample_grid<float>(x.view(), 4);
  BOOST_TEST(y.shape() == Shape({2, 1, 2, 2}));
  BOOST_TEST(y(0, 0, 1, 1) == x(0, 0, 4, 4));
  BOOST_TEST(y(1, 0, 0, 1) == x(1, 0, 0, 4));
  Tensor<float> odd({1, 1, 7, 5, 3});
  BOOST_TEST(subsample_grid<float>(odd.view(), 2).shape() == Shape({1, 1, 4, 3, 2}));  // x[..., ::2]
}

BOOST_AUTO_TEST_CASE(field_dataset_from_hdf5) {
  fs::create_directories("training_scratch");
  const fs::path p = "training_scratch/pairs.h5";
  Rng rng(3);
  {
    auto f = io::H5File::create(p);
    f.write("/inputs", Tensor<double>::randn({10, 3, 16, 16}, rng));
    f.write("/outputs", Tensor<double>::randn({10, 1, 16, 16}, rng));
    f.write("/bad_targets", Tensor<double>::randn({9, 1, 16, 16}, rng));
    f.write("/other_grid", Tensor<double>::randn({10, 1, 8, 8}, rng));
    f.commit();
  }
  const auto d = FieldDataset<float>::load(p, "/inputs", "/outputs", 2, 6);
  BOOST_TEST(d.size() == 6);
  BOOST_TEST(d.inputs.shape() == Shape({6, 3, 8, 8}));
  const auto full = FieldDataset<double>::load(p);
  BOOST_TEST(double(d.inputs(5, 2, 3, 3)) == full.inputs(5, 2, 6, 6), boost::test_tools::tolerance(1e-6));
  const auto sub = full.subset({4, 1});
  BOOST_TEST(sub.targets(0, 0, 2, 2) == full.targets(4, 0, 2, 2));
  try {
    FieldDataset<float>::load(p, "/inputs", "/bad_targets");
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("pairs.h5") != std::string::npos);
    BOOST_TEST(m.find("(10, 3, 16, 16)") != std::string::npos);
    BOOST_TEST(m.find("(9, 1, 16, 16)") != std::string::npos);
  }
  BOOST_CHECK_THROW(FieldDataset<float>::load(p, "/inputs", "/other_grid"), Error);
}

// An interrupted neurops_generate run leaves rows past its /completed counter: they are not data yet.
BOOST_AUTO_TEST_CASE(field_dataset_reads_only_the_completed_samples_of_a_generated_file) {
  fs::create_directories("training_scratch");
  const fs::path p = "training_scratch/interrupted.h5";
  Rng rng(4);
  {
    auto f = io::H5File::create(p);
    f.write("/inputs", Tensor<double>::randn({10, 1, 8, 8}, rng));
    f.write("/outputs", Tensor<double>::randn({10, 1, 8, 8}, rng));
    f.set_attr("/", "completed", std::int64_t(6));
    f.commit();
  }
  BOOST_TEST(FieldDataset<double>::load(p).size() == 6);
  BOOST_TEST(FieldDataset<double>::load(p, "/inputs", "/outputs", 1, 4).size() == 4);
  {
    auto f = io::H5File::open(p, io::FileMode::read_write);
    f.set_attr("/", "completed", std::int64_t(0));
    f.commit();
  }
  try {
    FieldDataset<double>::load(p);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("/completed = 0") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(deeponet_triples_and_cartesian_form) {
  fs::create_directories("training_scratch");
  const fs::path p = "training_scratch/deeponet.h5";
  Rng rng(4);
  {
    auto f = io::H5File::create(p);
    f.write("/triples/branch", Tensor<float>::randn({20, 100}, rng));
    f.write("/triples/trunk", Tensor<float>::randn({20, 1}, rng));
    f.write("/triples/values", Tensor<float>::randn({20, 1}, rng));
    f.write("/grid/branch", Tensor<float>::randn({20, 100}, rng));
    f.write("/grid/trunk", Tensor<float>::randn({50, 2}, rng));
    f.write("/grid/values", Tensor<float>::randn({20, 50}, rng));
    f.write("/bad/branch", Tensor<float>::randn({20, 100}, rng));
    f.write("/bad/trunk", Tensor<float>::randn({50, 2}, rng));
    f.write("/bad/values", Tensor<float>::randn({20, 49}, rng));
    f.commit();
  }
  const auto t = OperatorTriples<float>::load(p, "/triples");
  BOOST_TEST(!t.cartesian);
  BOOST_TEST(t.subset({3, 4}).trunk.size(0) == 2);
  const auto g = OperatorTriples<float>::load(p, "/grid");
  BOOST_TEST(g.cartesian);
  BOOST_TEST(g.subset({3, 4}).trunk.size(0) == 50);  // shared query points
  BOOST_CHECK_THROW(OperatorTriples<float>::load(p, "/bad"), Error);
}

BOOST_AUTO_TEST_SUITE_END()
