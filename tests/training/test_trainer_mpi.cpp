#define BOOST_TEST_MODULE neurops_trainer_mpi
#include <mpi.h>

#include <boost/test/unit_test.hpp>

#include "neurops/nn/trainer.hpp"
#include "neurops/operators/fno.hpp"
#include "synthetic.hpp"

using namespace neurops;
using namespace neurops::nn;
using namespace neurops::operators;

namespace {
struct MpiFixture {
  MpiFixture() { MPI_Init(nullptr, nullptr); }
  ~MpiFixture() { MPI_Finalize(); }
};

std::vector<double> train(MPI_Comm comm, const FieldDataset<float>& data) {
  FnoConfig c;
  c.width = 6;
  c.modes = {4};
  c.layers = 2;
  c.projection_channels = 8;
  c.seed = 2;
  Fno<float> model(c);
  Adam<float> adam(model, {.lr = 3e-3});
  LpLoss<float> loss(2);
  TrainerOptions o;
  o.epochs = 3;
  o.batch_size = 5;  // uneven shares on 2 ranks: 3 + 2
  o.seed = 9;
  o.comm = comm;
  o.verbose = false;
  Trainer<float> t(model, adam, nullptr, loss, o);
  return t.fit(data, nullptr).train_loss;
}
}  // namespace
BOOST_TEST_GLOBAL_FIXTURE(MpiFixture);

BOOST_AUTO_TEST_CASE(one_and_two_ranks_give_the_same_losses) {
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  BOOST_TEST_REQUIRE(size == 2);
  const auto data = periodic_poisson<float>(13, 16, 1);
  std::vector<double> alone;
  if (rank == 0) alone = train(MPI_COMM_SELF, data);
  const auto together = train(MPI_COMM_WORLD, data);
  if (rank == 0) {
    BOOST_TEST_REQUIRE(alone.size() == together.size());
    for (std::size_t e = 0; e < alone.size(); ++e)
      BOOST_TEST(together[e] == alone[e], boost::test_tools::tolerance(2e-5));
    BOOST_TEST(together.back() < together.front());
  }
}
