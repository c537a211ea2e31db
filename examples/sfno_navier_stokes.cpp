// sfno_navier_stokes — the Spectral-Refiner on 2-D Navier-Stokes: an SFNO trained on 64^2
// trajectories, applied zero-shot to 256^2 trajectories, then fine-tuned per trajectory on the
// Navier-Stokes residual of its own prediction (no ground truth).
//
// What it shows:
//   1. the data of `neurops_generate -gen_problem navier_stokes -ns_preset sfno`: vorticity trajectories
//      (N, 100 frames, 64, 64) split into train / validation / test rows (first 384, next 64, last 64 of
//      512), and a second file whose float64 `outputs_full` holds 256^2 trajectories; files still being
//      written are read up to their `completed` counter
//   2. SFNO (modes 12/12/5, width 20, 10 input frames -> 40 output frames) trained as the reference
//      (torch-cfd fno/train.py): a random window start per sample and epoch (seeded, as its
//      SpatioTemporalDataset), the time-averaged relative Bochner L2 loss (equal to its Fourier-space
//      SobolevLoss(norm_order 0) by Parseval), Adam lr 1e-2 with OneCycle, batch 4; the best
//      validation epoch is saved as best.h5 (neurops::load_model reads it)
//   3. test errors at 64^2 and zero-shot on the 256^2 trajectories, both metrics: the plain relative
//      L2 and the reference's time-averaged relative Bochner L2 (= the first / sqrt(40))
//   4. the Spectral-Refiner per 256^2 trajectory (operators/sfno_finetune.hpp): before/after errors,
//      residual norms and seconds
//   5. the residual as an a-posteriori error indicator: Pearson correlation over the trajectories
//      between the residual norm of a prediction and its true error, with w_t from the frames
//      (-sfnons_time_derivative frames, the default) and with the reference's IMEX rate
//   6. a results table (and results.csv), fields as HDF5 + an XDMF time series (ParaView steps
//      through the frames) and a PNG strip of truth / prediction / error over time
//
// Sample runs:
//   ./neurops_generate -gen_problem navier_stokes -ns_preset sfno -ns_n 64 -ns_store 64 -ns_grf_n 256 \
//       -gen_samples 512 -gen_out sfno_train64.h5
//   ./neurops_generate -gen_problem navier_stokes -ns_preset sfno -gen_samples 16 -gen_seed 1000000 \
//       -gen_out sfno_test256.h5
//   ./sfno_navier_stokes -sfnons_data sfno_train64.h5 -sfnons_fine sfno_test256.h5          # 10 epochs, 50 iterations
//   ./sfno_navier_stokes -sfnons_data sfno_train64.h5 -sfnons_fine sfno_test256.h5 -sfnons_refine_iterations 0
//   ./sfno_navier_stokes -help
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "neurops/neurops.hpp"
#include "neurops/nn/trajectory_error.hpp"
#include "neurops/operators/sfno.hpp"
#include "neurops/operators/sfno_finetune.hpp"
#include "neurops/pde/ns_residual.hpp"
#include "neurops/version.hpp"

namespace fs = std::filesystem;
using namespace neurops;

namespace {

/// The training loss: the reference's time-averaged relative Bochner L2 (per sample the relative L2
/// over all frames divided by sqrt(T)), batch mean.
class BochnerL2Loss : public nn::Loss<float> {
 public:
  double evaluate(const Tensor<float>& p, const Tensor<float>& y, Tensor<float>* grad) const override {
    const double scale = 1.0 / std::sqrt(double(p.size(1)));
    const double v = nn::LpLoss<float>(2).evaluate(p, y, grad) * scale;
    if (grad)
      for (auto& g : *grad) g = static_cast<float>(g * scale);
    return v;
  }
  std::string name() const override { return "BochnerL2Loss"; }
};

/// Frames [start_b + offset, start_b + offset + count) of the trajectories `rows` of traj (N, T, n, n).
template <class T>
Tensor<T> cut(const Tensor<T>& traj, const std::vector<index_t>& rows, const std::vector<index_t>& starts,
              index_t offset, index_t count) {
  const index_t frames = traj.size(1), plane = traj.size(2) * traj.size(3);
  Tensor<T> out = Tensor<T>::uninitialized({index_t(rows.size()), count, traj.size(2), traj.size(3)});
  for (std::size_t b = 0; b < rows.size(); ++b)
    std::copy_n(traj.data() + (rows[b] * frames + starts[b] + offset) * plane, count * plane,
                out.data() + index_t(b) * count * plane);
  return out;
}

std::vector<index_t> range(index_t begin, index_t count) {
  std::vector<index_t> r(static_cast<std::size_t>(count));
  for (index_t i = 0; i < count; ++i) r[std::size_t(i)] = begin + i;
  return r;
}

/// Predictions of the rows at window start `start`, in batches, evaluation mode.
Tensor<float> predict(operators::Sfno<float>& model, const Tensor<float>& traj, const std::vector<index_t>& rows,
                      index_t start, index_t t_in, index_t batch) {
  model.eval();
  Tensor<float> out;
  for (std::size_t b = 0; b < rows.size(); b += std::size_t(batch)) {
    std::vector<index_t> r(rows.begin() + long(b), rows.begin() + long(std::min(rows.size(), b + std::size_t(batch))));
    const Tensor<float> y = model.forward(cut(traj, r, std::vector<index_t>(r.size(), start), 0, t_in));
    if (b == 0) out = Tensor<float>::uninitialized(y.shape().with(0, index_t(rows.size())));
    std::copy_n(y.data(), y.numel(), out.data() + index_t(b) * (y.numel() / y.size(0)));
  }
  return out;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = double(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : std::nan("");
}

/// Truth, zero-shot prediction, refined prediction and their errors of one trajectory (T, n, n) as
/// HDF5 + XDMF time series + a PNG strip (rows: truth, prediction, refined, error; columns: frames).
void write_fields(const fs::path& dir, const Tensor<double>& truth, const Tensor<double>& zero_shot,
                  const Tensor<double>& refined, double frame_dt) {
  const index_t frames = truth.size(0), n = truth.size(1);
  Tensor<double> error = refined;
  for (index_t i = 0; i < error.numel(); ++i) error.data()[i] -= truth.data()[i];
  const std::vector<std::pair<std::string, const Tensor<double>*>> fields{
      {"truth", &truth}, {"zero_shot", &zero_shot}, {"refined", &refined}, {"error_refined", &error}};
  const fs::path h5 = dir / "sfno_fields.h5";
  {
    auto file = io::H5File::create(h5);
    for (const auto& [name, t] : fields) file.write("/" + name, *t);
    file.set_attr("/", "frame_dt", frame_dt);
    file.set_attr("/", "neurops_version", std::string(NEUROPS_VERSION_STRING));
    file.commit();
  }
  auto reader = io::H5File::open(h5);
  std::vector<io::XdmfStep> steps;
  for (index_t t = 0; t < frames; ++t) {
    io::XdmfStep step{.time = double(t + 1) * frame_dt, .attributes = {}};
    for (const auto& [name, f] : fields) step.attributes.push_back(io::xdmf_attribute(reader, "/" + name, name, {t}));
    steps.push_back(step);
  }
  const double h = 1.0 / double(n);
  io::write_xdmf_series(dir / "sfno_fields.xdmf", h5, io::UniformGrid{{n, n}, {0, 0}, {h, h}}, steps);
  // The strip: 5 frames evenly over the window, one row per field, a common colour range per row.
  const index_t shown = std::min<index_t>(5, frames), gap = 2;
  Tensor<double> strip({4 * n + 3 * gap, shown * n + (shown - 1) * gap});
  for (std::size_t r = 0; r < fields.size(); ++r)
    for (index_t c = 0; c < shown; ++c) {
      const index_t t = shown > 1 ? c * (frames - 1) / (shown - 1) : 0;
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j)
          // Row 0 of the picture is the bottom: the first field goes on top.
          strip((3 - index_t(r)) * (n + gap) + i, c * (n + gap) + j) = (*fields[r].second)(t, i, j);
    }
  io::write_png(dir / "sfno_strip.png", strip);
  std::printf("fields: %s (+ .xdmf, .xdmf.h5), strip: %s\n", h5.c_str(), (dir / "sfno_strip.png").c_str());
}

}  // namespace

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv, "SFNO and the Spectral-Refiner on 2-D Navier-Stokes\n");
  try {
    // 1. Options: the driver's, the model's (-sfno_...) and the refiner's (-sfnons_refine_...).
    Options opt("SFNO on Navier-Stokes", "sfnons_");
    const std::string data = opt.string("data", "", "64^2 trajectories of neurops_generate -ns_preset sfno (required)");
    const std::string fine = opt.string("fine", "", "256^2 trajectories (outputs_full) for zero-shot and fine-tuning");
    const index_t n_train = opt.integer("train", 384, "training trajectories (the first rows)");
    const index_t n_val = opt.integer("validation", 64, "validation trajectories (the next rows)");
    const index_t n_test = opt.integer("test", 64, "test trajectories (the last rows)");
    const index_t n_fine = opt.integer("fine_trajectories", 16, "256^2 trajectories to evaluate and fine-tune");
    const index_t epochs = opt.integer("epochs", 10, "training epochs");
    const index_t batch = opt.integer("batch", 4, "batch size");
    const double lr = opt.real("lr", 1e-2, "OneCycle peak learning rate of Adam");
    const index_t eval_start = opt.integer("eval_start", 0, "first frame of the validation/test/fine windows");
    const auto seed = static_cast<std::uint64_t>(opt.integer("seed", 42, "seed of the weights and windows"));
    const std::string derivative =
        opt.choice("time_derivative", "frames", {"frames", "reference_imex"}, "w_t of the error indicator's residual");
    const double frame_dt_option = opt.real("frame_dt", 0, "time between frames (0: from the file's times)");
    const fs::path out = opt.string("out", "sfno_navier_stokes_output", "output folder");
    operators::SfnoConfig config;
    config.seed = seed;
    config.set_from_options("sfno_");
    operators::SpectralRefinerSettings refine;
    refine.set_from_options("sfnons_refine_");
    refine.progress = true;  // 50 iterations at 256^2 take about a minute per trajectory
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(!data.empty(), "option -sfnons_data: expected a file of neurops_generate -ns_preset sfno");
    NEUROPS_CHECK(n_train >= 1 && n_val >= 1 && n_test >= 1 && epochs >= 1 && batch >= 1,
                  "options -sfnons_train/validation/test/epochs/batch: expected >= 1");
    fs::create_directories(out);
    const index_t t_in = config.input_steps, t_out = config.output_steps, span = t_in + t_out;

    // 2. Data: rows up to the file's `completed` counter (a run still writing it is fine).
    auto file = io::H5File::open(data);
    const index_t rows = file.has_attr("/", "completed") ? file.attr_int("/", "completed") : file.shape("/outputs")[0];
    NEUROPS_CHECK(n_train + n_val + n_test <= rows, "'" << data << "' holds " << rows << " completed trajectories, "
                                                        << n_train << " + " << n_val << " + " << n_test
                                                        << " requested (-sfnons_train/validation/test)");
    const Tensor<float> traj = file.read_rows<float>("/outputs", 0, rows);
    const index_t frames = traj.size(1), n = traj.size(2);
    NEUROPS_CHECK(frames >= span && eval_start + span <= frames,
                  "'" << data << "' has " << frames << " frames per trajectory; " << t_in << " + " << t_out
                      << " from frame " << eval_start << " (-sfnons_eval_start) do not fit");
    double frame_dt = frame_dt_option;
    if (frame_dt <= 0 && file.has_attr("/", "times")) {
      const std::vector<double> times = file.attr_reals("/", "times");
      if (times.size() >= 2) frame_dt = times[1] - times[0];
    }
    NEUROPS_CHECK(frame_dt > 0, "option -sfnons_frame_dt: '" << data << "' has no `times`; give the frame spacing");
    const std::vector<index_t> train_rows = range(0, n_train), val_rows = range(n_train, n_val),
                               test_rows = range(rows - n_test, n_test);
    std::printf("data: %lld train, %lld validation, %lld test trajectories of %lld frames on %lld^2 (dt %g), %s\n",
                (long long)n_train, (long long)n_val, (long long)n_test, (long long)frames, (long long)n, frame_dt,
                data.c_str());

    // Too many spatial modes for the data grid is an error now, before the model is built.
    nn::check_modes_fit_grid(config.modes(), {n, n, config.latent_steps}, "-sfno_modes_x/-sfno_modes_y/-sfno_modes_t",
                             "the data grid x latent frames");

    // 3. Training: a random window per sample and epoch, Adam + OneCycle per step, best validation kept.
    operators::Sfno<float> model(config);
    model.set_training_grid({n, n});
    const BochnerL2Loss loss;
    nn::Adam<float> adam(model, {.lr = lr});
    const index_t steps_per_epoch = (n_train + batch - 1) / batch;
    nn::OneCycleLr<float> schedule(adam, lr, epochs * steps_per_epoch);
    Rng rng(seed);
    double best = std::numeric_limits<double>::infinity(), train_seconds = 0;
    const std::vector<index_t> val_starts(val_rows.size(), eval_start);
    Progress progress(epochs * steps_per_epoch, "train");
    for (index_t e = 0; e < epochs; ++e) {
      Timer timer;
      std::vector<std::int64_t> order(train_rows.begin(), train_rows.end());
      rng.shuffle(order);
      double sum = 0;
      model.train();
      for (index_t s = 0; s < steps_per_epoch; ++s) {
        std::vector<index_t> r(order.begin() + s * batch, order.begin() + std::min(n_train, (s + 1) * batch));
        std::vector<index_t> starts;
        for (std::size_t i = 0; i < r.size(); ++i)
          starts.push_back(index_t(rng.integer(std::uint64_t(frames - span + 1))));
        const Tensor<float> x = cut(traj, r, starts, 0, t_in), y = cut(traj, r, starts, t_in, t_out);
        Tensor<float> g;
        model.zero_grad();
        sum += loss.evaluate(model.forward(x), y, &g);
        model.backward(g);
        adam.step();
        schedule.step();
        std::ostringstream status;
        status << "epoch " << e + 1 << " loss " << sum / double(s + 1);
        progress.update(e * steps_per_epoch + s + 1, status.str());
      }
      train_seconds += timer.seconds();
      const double val = nn::trajectory_errors(predict(model, traj, val_rows, eval_start, t_in, batch),
                                               cut(traj, val_rows, val_starts, t_in, t_out))
                             .mean_bochner_l2;
      if (val < best) {
        best = val;
        save_model(out / "best.h5", model);
      }
    }
    progress.finish();

    // 4. Test errors of the best checkpoint at 64^2, reloaded through load_model.
    auto loaded = load_model<float>(out / "best.h5");
    auto& best_model = dynamic_cast<operators::Sfno<float>&>(loaded.model());
    const nn::TrajectoryErrors test =
        nn::trajectory_errors(predict(best_model, traj, test_rows, eval_start, t_in, batch),
                              cut(traj, test_rows, std::vector<index_t>(test_rows.size(), eval_start), t_in, t_out));

    // 5. Zero-shot at the fine grid and the Spectral-Refiner per trajectory (float64, as the notebook).
    struct FineRow {
      double zero_shot_l2, zero_shot_bochner, refined_l2, refined_bochner, residual_before, residual_after, seconds;
      double indicator, indicator_reference;
    };
    std::vector<FineRow> fine_rows;
    if (!fine.empty()) {
      auto ff = io::H5File::open(fine);
      const std::string dataset = ff.exists("/outputs_full") ? "/outputs_full" : "/outputs";
      const index_t done = ff.has_attr("/", "completed") ? ff.attr_int("/", "completed") : ff.shape(dataset)[0];
      const index_t count = std::min(n_fine, done);
      NEUROPS_CHECK(count >= 1, "'" << fine << "' holds no completed trajectory");
      auto fine_loaded = load_model<double>(out / "best.h5");
      operators::Sfno<double>& sfno = operators::as_sfno(fine_loaded.model(), (out / "best.h5").string());
      pde::NsResidualSettings indicator_settings;
      indicator_settings.time_derivative =
          derivative == "frames" ? pde::NsTimeDerivative::frames : pde::NsTimeDerivative::reference_imex;
      indicator_settings.frame_dt = frame_dt;
      pde::NsResidualSettings reference_settings = refine.residual;
      reference_settings.time_derivative = pde::NsTimeDerivative::reference_imex;
      Tensor<double> first_truth, first_zero, first_refined;
      for (index_t k = 0; k < count; ++k) {
        const Tensor<double> w = ff.read_rows<double>(dataset, k, 1);
        const index_t nf = w.size(2);
        const std::vector<index_t> zero{0}, start{eval_start};
        const Tensor<double> x = cut(w, zero, start, 0, t_in), truth = cut(w, zero, start, t_in, t_out);
        operators::SpectralRefiner refiner(sfno, x, refine);
        sfno.eval();
        const Tensor<double> zero_shot = sfno.forward(x);
        const operators::Refinement r = refiner.run(&truth);
        const nn::TrajectoryErrors before = nn::trajectory_errors(zero_shot, truth),
                                   after = nn::trajectory_errors(r.prediction, truth);
        const pde::NsResidual indicator(nf, indicator_settings), reference(nf, reference_settings);
        fine_rows.push_back({before.mean_relative_l2, before.mean_bochner_l2, after.mean_relative_l2,
                             after.mean_bochner_l2, r.history.residual.front(), r.history.residual.back(),
                             r.history.seconds, indicator.norms(zero_shot).total, reference.norms(zero_shot).total});
        std::printf("fine trajectory %lld/%lld: Bochner L2 %.3e -> %.3e, residual %.3e -> %.3e, %s\n", (long long)k + 1,
                    (long long)count, before.mean_bochner_l2, after.mean_bochner_l2, r.history.residual.front(),
                    r.history.residual.back(), format_duration(r.history.seconds).c_str());
        if (k == 0) {
          first_truth = Tensor<double>(truth.sample(0)).reshape({t_out, nf, nf});
          first_zero = Tensor<double>(zero_shot.sample(0)).reshape({t_out, nf, nf});
          first_refined = Tensor<double>(r.prediction.sample(0)).reshape({t_out, nf, nf});
        }
      }
      write_fields(out, first_truth, first_zero, first_refined, frame_dt);
    }

    // 6. Results.
    std::ostringstream csv;
    csv << "what,relative_l2,bochner_l2,residual_before,residual_after,seconds,indicator\n";
    std::printf("\n%-22s %12s %12s %12s %12s %9s %12s\n", "", "rel. L2", "Bochner L2", "res. before", "res. after",
                "seconds", "indicator");
    const std::string test_label = "test " + std::to_string(n) + "^2";
    std::printf("%-22s %12.4e %12.4e %12s %12s %9.1f\n", test_label.c_str(), test.mean_relative_l2,
                test.mean_bochner_l2, "", "", train_seconds);
    csv << "test" << n << "," << test.mean_relative_l2 << "," << test.mean_bochner_l2 << ",,," << train_seconds << "\n";
    std::vector<double> errors, indicators, references;
    for (std::size_t k = 0; k < fine_rows.size(); ++k) {
      const FineRow& f = fine_rows[k];
      std::printf("%-22s %12.4e %12.4e %12.4e %12s %9s %12.4e\n", ("zero-shot fine #" + std::to_string(k)).c_str(),
                  f.zero_shot_l2, f.zero_shot_bochner, f.residual_before, "", "", f.indicator);
      std::printf("%-22s %12.4e %12.4e %12.4e %12.4e %9.2f\n", ("refined fine #" + std::to_string(k)).c_str(),
                  f.refined_l2, f.refined_bochner, f.residual_before, f.residual_after, f.seconds);
      csv << "zero_shot" << k << "," << f.zero_shot_l2 << "," << f.zero_shot_bochner << "," << f.residual_before
          << ",,," << f.indicator << "\n";
      csv << "refined" << k << "," << f.refined_l2 << "," << f.refined_bochner << "," << f.residual_before << ","
          << f.residual_after << "," << f.seconds << ",\n";
      errors.push_back(f.zero_shot_bochner);
      indicators.push_back(f.indicator);
      references.push_back(f.indicator_reference);
    }
    if (fine_rows.size() >= 2) {
      const double c = pearson(indicators, errors), cr = pearson(references, errors);
      std::printf(
          "\nresidual vs true error over %zu trajectories (zero-shot SFNO): Pearson %.3f (w_t %s), %.3f "
          "(reference IMEX w_t)\n",
          fine_rows.size(), c, derivative.c_str(), cr);
      csv << "correlation_" << derivative << "," << c << ",,,,,\ncorrelation_reference_imex," << cr << ",,,,,\n";
    }
    std::printf("Bochner L2 = the reference's reported relative L2 (relative L2 / sqrt(%lld frames))\n",
                (long long)t_out);
    io::write_text_atomically(out / "results.csv", csv.str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sfno_navier_stokes: error: %s\n", e.what());
    return 1;
  }
}
