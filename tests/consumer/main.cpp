// External consumer: initialises PETSc itself (as a host simulation code does), then uses neurops:
// an HDF5 round trip and, given pairs of a model file and its test set (argv[1], argv[2], ...), the
// one call that loads a trained model of any type with its normalizers, and a prediction.
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
    for (int i = 1; i + 1 < argc; i += 2) {
      auto model = neurops::load_model<float>(argv[i]);
      const auto file = neurops::io::H5File::open(argv[i + 1]);
      double error = 0;
      if (file.is_dataset("/branch")) {  // DeepONet: (branch, query points) -> values
        const auto test = neurops::nn::OperatorTriples<float>::load(argv[i + 1]);
        neurops::Tensor<float> grid = test.trunk;
        if (test.cartesian) grid.reshape({1, test.trunk.size(0), test.trunk.size(1)});
        const auto g = model.predict({test.branch, grid});
        error = neurops::nn::MseLoss<float>().evaluate(g, neurops::Tensor<float>(test.values.reshaped(g.shape())));
      } else {  // a field operator
        const auto test = neurops::nn::FieldDataset<float>::load(argv[i + 1]);
        error = neurops::nn::LpLoss<float>(2).evaluate(model.predict(test.inputs), test.targets);
      }
      std::printf("%s: %s model, test error %.4e\n", argv[i], model.type().c_str(), error);
      if (!(error < 1.0)) status = 1;  // trained models with their normalizers: far better than 100%
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
  }
  PetscCall(PetscFinalize());
  return status;
}
