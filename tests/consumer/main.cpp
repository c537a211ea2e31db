// External consumer: initialises PETSc itself (as a host simulation code does), then uses neurops:
// an HDF5 round trip and, given a model file and a test set (argv[1], argv[2]), the one call that
// loads a trained model of any type with its normalizers, and a prediction.
#include <neurops/neurops.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  PetscCall(PetscInitialize(&argc, &argv, nullptr, nullptr));
  int status = 1;
  try {
    neurops::PetscSession session(&argc, &argv);  // must leave the host's PETSc alone
    neurops::Rng rng(7);
    auto field = neurops::Tensor<double>::randn({1, 1, 8, 8}, rng);
    {
      auto file = neurops::io::H5File::create("consumer.h5");
      file.write("/u", field);
      file.commit();
    }
    const auto back = neurops::io::H5File::open("consumer.h5").read<double>("/u", {1, 1, 8, 8});
    const bool same = std::equal(field.begin(), field.end(), back.begin());
    std::printf("neurops %s consumer: round trip %s, host owns PETSc: %s\n", NEUROPS_VERSION_STRING,
                same ? "exact" : "DIFFERS", session.owns_petsc() ? "no" : "yes");
    status = same && !session.owns_petsc() ? 0 : 1;
    if (argc >= 3) {
      auto model = neurops::load_model<float>(argv[1]);
      const auto test = neurops::nn::FieldDataset<float>::load(argv[2]);
      const auto u = model.predict(test.inputs);
      const double error = neurops::nn::LpLoss<float>(2).evaluate(u, test.targets);
      std::printf("%s: %s model, prediction %s, test relative L2 %.4e\n", argv[1], model.type().c_str(),
                  u.shape().str().c_str(), error);
      if (!(error < 1.0)) status = 1;  // a trained model, normalizers applied: far better than 100%
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
  }
  PetscCall(PetscFinalize());
  return status;
}
