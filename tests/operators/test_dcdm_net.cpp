// The DCDM network: the reference's structure (checked against a literal transcription of its layer
// formulas with a naive convolution), parameter counts of the two variants, gradients and adjoint in
// double, checkpoint round trip and the errors for bad grids and bad model files.
#define BOOST_TEST_MODULE neurops_dcdm_net
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "neurops/operators/fno.hpp"

using namespace neurops;
using namespace neurops::operators;

namespace {

DcdmNetConfig small_config() {
  DcdmNetConfig c;
  c.channels = 3;
  c.pre_convs = 4;
  c.mid_convs = 2;
  c.post_convs = 2;
  c.seed = 7;
  return c;
}

// ---- a literal transcription of the reference's Keras graph, independent of the module tree ----

using Field = std::vector<double>;  // (C, n, n, n)

struct NaiveConv {
  const Tensor<double>* w;
  const Tensor<double>* b;
};

Field conv(const NaiveConv& k, const Field& x, index_t n, bool relu) {
  const index_t co = k.w->size(0), ci = k.w->size(1), ks = k.w->size(2), h = ks / 2;
  Field y(static_cast<std::size_t>(co * n * n * n));
  for (index_t o = 0; o < co; ++o)
    for (index_t z = 0; z < n; ++z)
      for (index_t yy = 0; yy < n; ++yy)
        for (index_t xx = 0; xx < n; ++xx) {
          double s = (*k.b)[o];
          for (index_t i = 0; i < ci; ++i)
            for (index_t a = 0; a < ks; ++a)
              for (index_t c = 0; c < ks; ++c)
                for (index_t d = 0; d < ks; ++d) {
                  const index_t zz = z + a - h, y2 = yy + c - h, x2 = xx + d - h;
                  if (zz < 0 || zz >= n || y2 < 0 || y2 >= n || x2 < 0 || x2 >= n) continue;
                  s += (*k.w)(o, i, a, c, d) * x[static_cast<std::size_t>(((i * n + zz) * n + y2) * n + x2)];
                }
          y[static_cast<std::size_t>(((o * n + z) * n + yy) * n + xx)] = relu ? std::max(s, 0.0) : s;
        }
  return y;
}

Field add(Field a, const Field& b) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

Field avgpool(const Field& x, index_t c, index_t n) {
  const index_t m = n / 2;
  Field y(static_cast<std::size_t>(c * m * m * m));
  for (index_t ch = 0; ch < c; ++ch)
    for (index_t z = 0; z < n; ++z)
      for (index_t yy = 0; yy < n; ++yy)
        for (index_t xx = 0; xx < n; ++xx)
          y[static_cast<std::size_t>(((ch * m + z / 2) * m + yy / 2) * m + xx / 2)] +=
              x[static_cast<std::size_t>(((ch * n + z) * n + yy) * n + xx)] / 8.0;
  return y;
}

Field upsample(const Field& x, index_t c, index_t m) {
  const index_t n = 2 * m;
  Field y(static_cast<std::size_t>(c * n * n * n));
  for (index_t ch = 0; ch < c; ++ch)
    for (index_t z = 0; z < n; ++z)
      for (index_t yy = 0; yy < n; ++yy)
        for (index_t xx = 0; xx < n; ++xx)
          y[static_cast<std::size_t>(((ch * n + z) * n + yy) * n + xx)] =
              x[static_cast<std::size_t>(((ch * m + z / 2) * m + yy / 2) * m + xx / 2)];
  return y;
}

/// src/train.py's graph with the convolutions taken in declaration order.
Field reference_forward(DcdmNet<double>& net, const Field& b, index_t n) {
  std::vector<NaiveConv> k;
  const auto params = net.named_parameters();
  for (std::size_t i = 0; i + 1 < params.size(); i += 2)
    k.push_back({&params[i].param->value, &params[i + 1].param->value});
  const auto& c = net.config();
  std::size_t next = 0;
  const Field first = conv(k[next++], b, n, false);
  Field la = conv(k[next++], first, n, true);
  Field lb;
  for (index_t p = 0; p < (c.pre_convs - 2) / 2; ++p) {
    lb = conv(k[next++], la, n, true);
    la = add(conv(k[next++], lb, n, true), la);
  }
  lb = conv(k[next++], la, n, true);
  Field apa = avgpool(lb, c.channels, n);
  for (index_t p = 0; p < c.mid_convs / 2; ++p) {
    const Field apb = conv(k[next++], apa, n / 2, true);
    apa = add(conv(k[next++], apb, n / 2, true), apa);
  }
  Field upa = add(upsample(apa, c.channels, n / 2), lb);
  for (index_t p = 0; p < c.post_convs / 2; ++p) {
    const Field upb = conv(k[next++], upa, n, true);
    upa = add(conv(k[next++], upb, n, true), upa);
  }
  BOOST_REQUIRE(next + 1 == k.size());
  return conv(k[next], upa, n, false);
}

}  // namespace

BOOST_AUTO_TEST_CASE(forward_follows_the_reference_graph_layer_by_layer) {
  for (auto [pre, mid, post] : {std::tuple{4, 6, 4}, std::tuple{6, 2, 2}, std::tuple{2, 0, 0}}) {
    BOOST_TEST_CONTEXT("pre/mid/post " << pre << "/" << mid << "/" << post) {
      DcdmNetConfig c = small_config();
      c.pre_convs = pre;
      c.mid_convs = mid;
      c.post_convs = post;
      DcdmNet<double> net(c);
      net.eval();
      const index_t n = 6;
      Rng rng(3);
      for (auto& p : net.named_parameters())  // biases start at zero: give them values to check too
        if (p.name.find("bias") != std::string::npos)
          p.param->value = Tensor<double>::randn(p.param->value.shape(), rng);
      const auto x = Tensor<double>::randn({1, 1, n, n, n}, rng);
      const auto y = net.forward(x);
      const Field ref = reference_forward(net, Field(x.begin(), x.end()), n);
      double err = 0, scale = 0;
      for (index_t i = 0; i < y.numel(); ++i) {
        err = std::max(err, std::abs(y[i] - ref[static_cast<std::size_t>(i)]));
        scale = std::max(scale, std::abs(ref[static_cast<std::size_t>(i)]));
      }
      BOOST_TEST(scale > 0);
      BOOST_TEST(err <= 1e-12 * scale * 100, "max difference " << err << " (scale " << scale << ")");
    }
  }
}

BOOST_AUTO_TEST_CASE(variants_have_the_reference_parameter_counts) {
  // 27*16+16 (first) + k*(27*16*16+16) + 16+1 (head) with k = 14 and 22 hidden convolutions.
  for (auto [n, expected] :
       {std::pair{64, index_t(448 + 14 * 6928 + 17)}, std::pair{128, index_t(448 + 22 * 6928 + 17)}}) {
    const auto c = DcdmNetConfig::variant(n);
    DcdmNet<float> net(c);
    BOOST_TEST(net.parameter_count() == expected);
    BOOST_TEST(c.parameter_count() == expected);
  }
  BOOST_CHECK_THROW(DcdmNetConfig::variant(32), Error);
}

BOOST_AUTO_TEST_CASE(gradients_and_adjoint_in_double) {
  // Entry-wise central differences (step 1e-6) see the ReLU masks; the adjoint test moves every
  // parameter at once by 1e-5 N(0,1), which crosses some ReLU kink in a 14-layer network, so it is
  // checked where the kinks are out of reach: with biases of +2 every unit is active.
  Rng rng(11);
  const auto x = Tensor<double>::randn({2, 1, 4, 6, 4}, rng);
  nn::GradCheckOptions o;
  o.entries_per_tensor = 4;
  DcdmNet<double> net(small_config());
  const auto r = nn::gradcheck(net, x, o);
  BOOST_TEST_MESSAGE(r.summary());
  BOOST_TEST(std::max({r.input_error, r.parameter_error, r.adjoint_input_error}) < 1e-5, r.summary());

  DcdmNet<double> active(small_config());
  for (auto& p : active.named_parameters())
    if (p.name.size() > 4 && p.name.substr(p.name.size() - 4) == "bias") p.param->value.fill(2.0);
  const auto a = nn::gradcheck(active, x, o);
  BOOST_TEST_MESSAGE(a.summary());
  BOOST_TEST(a.max_error() < 1e-5, a.summary());
}

BOOST_AUTO_TEST_CASE(fully_convolutional_over_even_grids_and_clear_error_for_odd_ones) {
  DcdmNet<float> net(small_config());
  net.eval();
  for (index_t n : {2, 4, 8})
    BOOST_TEST(net.forward(Tensor<float>({1, 1, n, n + 2, n})).shape() == Shape({1, 1, n, n + 2, n}));
  try {
    net.forward(Tensor<float>({1, 1, 5, 4, 4}));
    BOOST_FAIL("an odd grid must be rejected");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("5 x 4 x 4") != std::string::npos, e.what());
  }
  BOOST_CHECK_THROW(net.forward(Tensor<float>({1, 2, 4, 4, 4})), Error);
}

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_and_bad_model_files) {
  const auto dir = std::filesystem::temp_directory_path() / "neurops_test_dcdm_net";
  std::filesystem::create_directories(dir);
  DcdmNet<double> net(small_config());
  nn::CheckpointContents<double> c;
  c.model = &net;
  nn::save_checkpoint(dir / "net.h5", c);

  auto loaded = load_dcdm_net<float>((dir / "net.h5").string());
  BOOST_TEST((loaded.config() == net.config()));
  Rng rng(2);
  const auto x = Tensor<double>::randn({1, 1, 4, 4, 4}, rng);
  net.eval();
  const auto y = net.forward(x);
  Tensor<float> xf(x.shape());
  for (index_t i = 0; i < x.numel(); ++i) xf[i] = float(x[i]);
  const auto yf = loaded.forward(xf);
  for (index_t i = 0; i < y.numel(); ++i) BOOST_TEST(std::abs(yf[i] - y[i]) < 1e-5 * (1 + std::abs(y[i])));

  // Missing file, and a checkpoint of another model type: the message names the file and the type.
  BOOST_CHECK_EXCEPTION(load_dcdm_net<float>((dir / "none.h5").string()), Error,
                        [](const Error& e) { return std::string(e.what()).find("none.h5") != std::string::npos; });
  FnoConfig fc;
  fc.dims = 3;
  fc.width = 2;
  fc.modes = {1};
  fc.layers = 1;
  fc.projection_channels = 2;
  Fno<double> other(fc);
  nn::CheckpointContents<double> oc;
  oc.model = &other;
  nn::save_checkpoint(dir / "conv.h5", oc);
  BOOST_CHECK_EXCEPTION(load_dcdm_net<float>((dir / "conv.h5").string()), Error, [](const Error& e) {
    return std::string(e.what()).find("FNO3d") != std::string::npos &&
           std::string(e.what()).find("DCDMNet3d") != std::string::npos;
  });
  std::filesystem::remove_all(dir);
}
