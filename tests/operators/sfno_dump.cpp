// sfno_dump OUT_DIR — writes OUT_DIR/sfno.h5, a double-precision SFNO checkpoint (ReLU, the lifting's
// FFN; non-zero spectral biases and norm parameters), and OUT_DIR/cases.h5 with, per case, the input /caseK/x, the
// output /caseK/y, a loss weight /caseK/dy, the input gradient /caseK/dx of L = <y, dy> and the parameter gradients
// /caseK/grad/<name>. Case 0 runs the configured shapes; case 1 a 2x finer grid, other input frames and other output
// steps. The same for a GELU model whose lifting has no FFN (lift_activation off): sfno_gelu.h5 and cases_gelu.h5. For
// tests/operators/check_sfno_torch.py.
#include <cstdio>
#include <filesystem>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/operators/sfno.hpp"

using namespace neurops;

namespace {

void run_case(operators::Sfno<double>& model, io::H5File& out, const std::string& group, const Shape& x_shape,
              index_t out_steps, std::uint64_t seed) {
  Rng rng(seed);
  const auto x = Tensor<double>::randn(x_shape, rng);
  model.set_output_steps(out_steps);
  model.train();
  model.zero_grad();
  const auto y = model.forward(x);
  const auto dy = Tensor<double>::randn(y.shape(), rng);
  const auto dx = model.backward(dy);
  out.create_group(group);
  out.write(group + "/x", x);
  out.write(group + "/y", y);
  out.write(group + "/dy", dy);
  out.write(group + "/dx", dx.at(0));
  out.create_group(group + "/grad");
  for (auto& p : model.named_parameters()) out.write(group + "/grad/" + p.name, p.param->grad);
}

void dump_model(const operators::SfnoConfig& c, const std::filesystem::path& dir, const std::string& suffix) {
  operators::Sfno<double> model(c);
  Rng rng(21);
  for (int k = 0; k < 4; ++k)
    nn::init_normal(model.parameter("output.conv.spectral_bias" + std::to_string(k)), 0.5, rng);
  nn::init_normal(model.parameter("lifting.norm.weight"), 1.0, rng);
  nn::init_normal(model.parameter("lifting.norm.bias"), 0.3, rng);
  save_model(dir / ("sfno" + suffix + ".h5"), model);
  auto out = io::H5File::create(dir / ("cases" + suffix + ".h5"));
  run_case(model, out, "/case0", {2, 6, 8, 6}, 4, 1);
  run_case(model, out, "/case1", {2, 7, 16, 12}, 9, 2);
  out.commit();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sfno_dump OUT_DIR\n");
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    operators::SfnoConfig c;
    c.modes_x = 3;
    c.modes_y = 2;
    c.modes_t = 3;
    c.width = 6;
    c.layers = 3;
    c.input_steps = 6;
    c.latent_steps = 5;
    c.output_steps = 4;
    c.channel_expansion = 2;
    c.beta = -0.05;
    c.delta = 0.1;
    c.seed = 11;
    dump_model(c, dir, "");
    c.activation = nn::ActivationKind::GELU;
    c.lift_activation = false;
    c.seed = 12;
    dump_model(c, dir, "_gelu");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sfno_dump: error: %s\n", e.what());
    return 1;
  }
}
