// neurops_demo — the library's end-to-end demo: from a PDE solver to a trained neural operator.
//
// What it shows:
//   1. PETSc start-up and options (-help lists them)
//   2. Darcy flow data: thresholded Gaussian-random-field coefficients a (12 / 3), f = 1, u = 0 on the
//      boundary, solved by the library's PETSc Darcy solver (CG + GAMG)
//   3. an MgNO (multigrid neural operator) trained on a -> u with the relative H1 loss, Adam and a
//      OneCycle schedule, with a progress line and ETA
//   4. evaluation on unseen coefficients: relative L2 and H1 errors
//   5. coefficient, solution, prediction and error fields written as HDF5 (batch, channel, y, x) with
//      attributes, an XDMF sidecar that ParaView opens directly, and PNG previews
//   6. the model saved with its normalizers (mgno.h5), loaded back with neurops::load_model and
//      checked to predict the same fields bit for bit; the files read back; a results table
//
// Sample runs:
//   ./neurops_demo                                  # 64^2, 300 training samples, 25 epochs: ~2 minutes on 2 cores
//   ./neurops_demo -demo_n 32 -demo_train 32 -demo_epochs 2 -demo_out /tmp/run
//   ./neurops_demo -demo_width 24 -demo_epochs 30 -demo_seed 3
//   ./neurops_demo -help
#include <cstdio>
#include <filesystem>

#include "darcy_example.hpp"
#include "neurops/neurops.hpp"
#include "neurops/operators/mgno.hpp"

int main(int argc, char** argv) {
  using namespace neurops;
  // PETSc (and HDF5) shut down after the error below has been reported: the session outlives the try.
  PetscSession session(&argc, &argv, "neurops demo: Darcy data -> MgNO training -> fields in HDF5 + XDMF + PNG\n");
  try {
    // 1. PETSc start-up and options.
    Options opt("neurops demo", "demo_");
    const index_t n = opt.integer("n", 64, "grid points per side (divisible by 8)");
    const index_t n_train = opt.integer("train", 300, "training samples");
    const index_t n_test = opt.integer("test", 20, "test samples");
    const std::int64_t epochs = opt.integer("epochs", 25, "training epochs");
    const index_t width = opt.integer("width", 12, "MgNO channels");
    const index_t layers = opt.integer("layers", 3, "MgNO layers");
    const double lr = opt.real("lr", 2e-3, "OneCycle maximum learning rate");
    const auto seed = static_cast<std::uint64_t>(opt.integer("seed", 1, "random seed"));
    const std::string out = opt.string("out", "demo_output", "output folder");
    opt.solver_prefix("darcy_", "the Darcy data solver's KSP and PC");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(n_train >= 1 && n_test >= 1,
                  "options -demo_train/-demo_test: expected >= 1, found " << n_train << " and " << n_test);
    NEUROPS_CHECK(epochs >= 1, "option -demo_epochs: expected >= 1, found " << epochs);
    operators::MgnoConfig config;
    config.width = width;
    config.layers = layers;
    config.pre_smoothing = {1, 1, 1, 2};
    config.post_smoothing = {0, 0, 0, 0};
    config.seed = seed;
    config.validate();
    try {
      config.check_grid(n, n);
    } catch (const Error& e) {
      NEUROPS_THROW("option -demo_n: " << e.what());
    }
    std::filesystem::create_directories(out);
    Timer total;

    // 2. Darcy data.
    Timer data_timer;
    index_t iterations = 0;
    const auto train = pde::darcy_dataset(n, n_train, seed * 1000 + 1, "Darcy train", &iterations);
    const auto test = pde::darcy_dataset(n, n_test, seed * 1000 + 2, "Darcy test");
    const double data_seconds = data_timer.seconds();

    // 3. MgNO training (the library's recipe: normalizers, relative H1 loss, Adam + OneCycle).
    operators::Mgno<float> model(config);
    const bool root = session.rank() == 0;
    if (root)
      std::printf("MgNO: width %lld, %lld layers, 4 levels, %lld parameters\n", (long long)width, (long long)layers,
                  (long long)model.parameter_count());
    // Under mpiexec the ranks share every batch (data parallel); rank 0 alone writes and verifies.
    const auto trained = nn::train_field_operator(
        model, train, nullptr, {.epochs = epochs, .batch_size = 8, .lr = lr, .seed = seed, .comm = PETSC_COMM_WORLD});
    if (!root) return 0;

    // 4. Save the model with its normalizers, load it back as a user would, evaluate on the test set.
    const std::filesystem::path model_file = std::filesystem::path(out) / "mgno.h5";
    save_model(model_file, model, trained.input_normalizer, trained.output_normalizer);
    auto loaded = load_model<float>(model_file);
    const auto result = nn::evaluate_field_operator(loaded, test);
    test.save(std::filesystem::path(out) / "test_data.h5");
    {
      auto f = io::H5File::open(std::filesystem::path(out) / "test_data.h5", io::FileMode::read_write);
      f.set_attr("/", "mgno_relative_l2", result.relative_l2);
      f.set_attr("/", "mgno_checkpoint", std::string("mgno.h5"));
    }

    // 5. HDF5 + XDMF + PNG.
    const index_t saved = std::min<index_t>(n_test, 4);
    const Tensor<float>& prediction = result.predictions;
    const auto h5 = examples::write_darcy_fields(out, "darcy", test, {{"mgno", prediction}}, saved, seed);

    // 6. Read back and verify: the fields, and the in-memory model against the loaded one.
    auto reader = io::H5File::open(h5);
    const auto a_back = reader.read<float>("/coefficient", {saved, 1, n, n});
    const auto u_back = reader.read<float>("/solution", {saved, 1, n, n});
    const auto p_back = reader.read<float>("/prediction_mgno", {saved, 1, n, n});
    const index_t count = saved * n * n;
    const bool exact = std::equal(a_back.begin(), a_back.end(), test.inputs.begin()) &&
                       std::equal(u_back.begin(), u_back.end(), test.targets.begin()) &&
                       std::equal(p_back.begin(), p_back.end(), prediction.begin()) && a_back.numel() == count;
    Tensor<float> direct = test.inputs;  // the in-memory model, normalizers applied by hand
    trained.input_normalizer.encode(direct);
    model.eval();
    direct = model.forward(direct);
    trained.output_normalizer.decode(direct);
    const bool same_model = direct.vec() == prediction.vec();
    const auto png = io::read_png(std::filesystem::path(out) / "darcy_prediction_mgno.png");

    std::printf("\n%-28s %s\n", "result", "value");
    std::printf("%-28s %lld x %lld\n", "grid", (long long)n, (long long)n);
    std::printf("%-28s %lld / %lld\n", "train / test samples", (long long)n_train, (long long)n_test);
    std::printf("%-28s %s (%lld CG iterations per solve)\n", "data generation", format_duration(data_seconds).c_str(),
                (long long)iterations);
    std::printf("%-28s %lld\n", "MgNO parameters", (long long)model.parameter_count());
    std::printf("%-28s %s (%lld epochs)\n", "training", format_duration(trained.seconds).c_str(), (long long)epochs);
    std::printf("%-28s %.4e\n", "test relative L2 error", result.relative_l2);
    std::printf("%-28s %.4e\n", "test relative H1 error", result.relative_h1);
    std::printf("%-28s %s\n", "HDF5 file", h5.c_str());
    std::printf("%-28s %s (load_model: %s)\n", "model", model_file.c_str(), loaded.type().c_str());
    std::printf("%-28s %s\n", "round trip (fields, model)", exact && same_model ? "bit-exact" : "MISMATCH");
    std::printf("%-28s %d x %d px\n", "PNG preview", png.width, png.height);
    std::printf("%-28s %.3f s\n", "time", total.seconds());
    return exact && same_model ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neurops_demo: error: %s\n", e.what());
    return 1;
  }
}
