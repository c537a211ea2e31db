#include "neurops/nn/trainer.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include <unistd.h>

#include "neurops/core/progress.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/distributed.hpp"

namespace neurops::nn {

namespace fs = std::filesystem;

namespace {

std::vector<index_t> iota_rows(index_t begin, index_t end) {
  std::vector<index_t> rows;
  for (index_t i = begin; i < end; ++i) rows.push_back(i);
  return rows;
}

/// Copies `part` into rows [row, row + part.size(0)) of `out`, allocating `out` on the first call.
template <class T>
void place_rows(Tensor<T>& out, index_t total, index_t row, const Tensor<T>& part) {
  if (out.empty()) out = Tensor<T>::uninitialized(part.shape().with(0, total));
  const index_t per_row = part.shape().tail_numel(1);
  std::copy(part.begin(), part.end(), out.data() + row * per_row);
}

std::string format_metric(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4e", v);
  return buf;
}

}  // namespace

template <class T>
Trainer<T>::Trainer(Model<T>& model, Optimizer<T>& optimizer, LrScheduler<T>* scheduler, const Loss<T>& loss,
                    TrainerOptions options)
    : model_(model), optimizer_(optimizer), scheduler_(scheduler), loss_(loss), options_(std::move(options)) {
  NEUROPS_CHECK(options_.epochs >= 0, "trainer: epochs must be >= 0, found " << options_.epochs);
  NEUROPS_CHECK(options_.batch_size >= 0,
                "trainer: batch size must be >= 1 (or 0 for the full batch), found " << options_.batch_size);
  NEUROPS_CHECK(options_.max_steps >= 0 && options_.validate_every >= 0,
                "trainer: max_steps and validate_every must be >= 0, found " << options_.max_steps << " and "
                                                                             << options_.validate_every);
  NEUROPS_CHECK(options_.eval_batch_size >= 1,
                "trainer: evaluation batch must be >= 1, found " << options_.eval_batch_size);
  if (options_.comm != MPI_COMM_NULL) {
    MPI_Comm_rank(options_.comm, &rank_);
    MPI_Comm_size(options_.comm, &size_);
  }
  NEUROPS_CHECK(
      options_.batch_size == 0 || options_.batch_size >= size_,
      "trainer: global batch " << options_.batch_size << " is smaller than the " << size_ << " ranks sharing it");
  if (size_ > 1) broadcast_parameters(model_, options_.comm);
  if (!options_.output_dir.empty() && rank_ == 0) fs::create_directories(options_.output_dir);
  state_.rng = Rng(options_.seed).state();
}

template <class T>
void Trainer<T>::set_normalizers(Normalizer<T> input, Normalizer<T> output) {
  input_norm_ = std::move(input);
  output_norm_ = std::move(output);
}

template <class T>
CheckpointContents<T> Trainer<T>::contents() {
  CheckpointContents<T> c;
  c.model = &model_;
  c.optimizer = &optimizer_;
  c.scheduler = scheduler_;
  c.input_normalizer = &input_norm_;
  c.output_normalizer = &output_norm_;
  c.state = &state_;
  return c;
}

template <class T>
void Trainer<T>::save_checkpoint(const fs::path& path) {
  if (rank_ == 0) nn::save_checkpoint(path, contents());
}

template <class T>
void Trainer<T>::resume(const fs::path& path) {
  nn::load_checkpoint(path, contents());
  best_.clear();
  resumed_from_ = path;
}

template <class T>
Tensor<T> Trainer<T>::run(const Batch<T>& batch) {
  std::vector<Tensor<T>> inputs = batch.inputs;
  if (!inputs.empty()) input_norm_.encode(inputs[0]);
  Tensor<T> out = model_.forward(Inputs<T>(inputs));
  output_norm_.decode(out);
  return out;
}

template <class T>
double Trainer<T>::train_batch(const Dataset<T>& train, const std::vector<index_t>& batch, std::int64_t epoch,
                               index_t b) {
  const index_t global = static_cast<index_t>(batch.size());
  const auto [lo, hi] = rank_share(global, rank_, size_);
  const std::vector<index_t> local(batch.begin() + lo, batch.begin() + hi);
  double local_loss = 0;
  if (!local.empty()) {
    const Batch<T> data = train.batch(local);
    const Tensor<T> out = run(data);
    Tensor<T> grad;
    local_loss = loss_.evaluate_batch(out, data.targets, data.inputs, &grad);
    output_norm_.decode_backward(grad);
    model_.backward(grad);
  }
  const double w = double(local.size()) / double(global);
  const double loss = size_ > 1 ? allreduce_sum(local_loss * w, options_.comm) : local_loss;
  NEUROPS_CHECK(std::isfinite(loss), "training diverged: loss is " << loss << " at epoch " << epoch + 1 << ", batch "
                                                                   << b + 1 << " (lower the learning rate?)");
  if (size_ > 1) allreduce_gradients(model_, options_.comm, static_cast<index_t>(local.size()), global);
  // One pass over the gradients: clipping computes the norm anyway.
  double norm = 0;
  if (options_.clip_grad_norm > 0) {
    norm = clip_grad_norm(model_, options_.clip_grad_norm);
  } else {
    for (const auto& p : optimizer_.parameters())
      if (p.param->trainable) norm += double(p.param->grad.vec().squaredNorm());
  }
  NEUROPS_CHECK(std::isfinite(norm), "non-finite gradient at epoch " << epoch + 1 << ", batch " << b + 1);
  optimizer_.step();
  optimizer_.zero_grad();
  if (scheduler_ && options_.scheduler_per_batch) scheduler_->step();
  return loss;
}

template <class T>
const Loss<T>& Trainer<T>::metric_for(const Dataset<T>& data, std::unique_ptr<Loss<T>>& holder) const {
  if (metric_) return *metric_;
  holder = std::make_unique<LpLoss<T>>(std::max<int>(1, static_cast<int>(data.grid().size())), 2.0, true);
  return *holder;
}

template <class T>
void Trainer<T>::record(const Dataset<T>& train, const Dataset<T>* validation, double train_loss, double seconds) {
  const double validation_metric = validation ? evaluate(*validation) : NAN;
  const double train_metric = options_.best_by == BestBy::training ? evaluate(train) : NAN;
  const double metric = options_.best_by == BestBy::training ? train_metric : validation_metric;
  state_.steps.push_back(double(state_.step));
  state_.train_loss.push_back(train_loss);
  state_.train_metric.push_back(train_metric);
  state_.validation_metric.push_back(validation_metric);
  state_.learning_rate.push_back(optimizer_.lr(0));
  state_.seconds.push_back(seconds);
  if (std::isfinite(metric) && metric < state_.best_metric) {
    state_.best_metric = metric;
    state_.best_step = state_.step;  // fit() sets best_epoch and writes best.h5 once the state is complete
    best_.clear();
    for (auto& p : model_.named_parameters()) best_.push_back(p.param->value);
  }
}

template <class T>
const TrainingState& Trainer<T>::fit(const Dataset<T>& train, const Dataset<T>* validation) {
  train.validate("training data");
  NEUROPS_CHECK(train.size() > 0, "training data: the training split is empty");
  if (validation) {
    validation->validate("validation data");
    NEUROPS_CHECK(validation->size() > 0, "validation data: the validation split is empty");
  }
  model_.set_training_grid(train.grid());

  const index_t batch_size = options_.batch_size == 0 ? train.size() : std::min(options_.batch_size, train.size());
  BatchSampler sampler(iota_rows(0, train.size()), batch_size, true, options_.seed);
  const index_t batches = sampler.num_batches();
  const std::int64_t total = options_.max_steps > 0 ? options_.max_steps : options_.epochs * batches;
  const std::int64_t first = state_.step;
  const bool tty = isatty(fileno(stderr)) != 0;
  const bool talk = options_.verbose && rank_ == 0;
  Progress progress(total - first, "train", 1e300);  // terminal only; a log gets one line per evaluation
  Timer since_record;

  while (state_.step < total) {
    const std::int64_t epoch = state_.step / batches;
    const index_t b = static_cast<index_t>(state_.step % batches);
    if (b == 0 || state_.step == first) {
      model_.train();
      sampler.set_epoch(epoch);
    }
    const auto rows = sampler.batch(b);
    try {
      state_.pending_loss += train_batch(train, rows, epoch, b) * double(rows.size());
    } catch (const Error& e) {
      const std::string where = "epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1);
      if (e.message().find(where) != std::string::npos) throw;
      throw Error(e.file().c_str(), e.line(), "training stopped at " + where + ": " + e.message());
    }
    state_.pending_samples += double(rows.size());
    ++state_.step;
    const bool epoch_end = b + 1 == batches;
    if (epoch_end) {
      state_.epoch = epoch + 1;
      if (scheduler_ && !options_.scheduler_per_batch) scheduler_->step();
    }
    if (talk && tty) {
      std::ostringstream st;
      st.precision(3);
      st << "epoch " << epoch + 1 << " loss " << std::scientific << state_.pending_loss / state_.pending_samples
         << " lr " << optimizer_.lr(0);
      progress.update(state_.step - first, st.str());
    }
    const bool evaluate_now = options_.validate_every > 0
                                  ? (state_.step % options_.validate_every == 0 || state_.step == total)
                                  : (epoch_end || state_.step == total);
    if (evaluate_now) {
      const double train_loss = state_.pending_loss / state_.pending_samples;
      state_.pending_loss = state_.pending_samples = 0;  // counted in train_loss: a resume must not count them again
      record(train, validation, train_loss, since_record.seconds());
      if (state_.best_step == state_.step) {  // a new best, in the epoch this step belongs to (1-based)
        state_.best_epoch = epoch + 1;
        if (options_.save_best && !options_.output_dir.empty() && rank_ == 0)
          nn::save_checkpoint(options_.output_dir / "best.h5", contents());
      }
      since_record = Timer();
      model_.train();
      if (talk && !tty) {
        const double done = double(state_.step - first) / double(total - first);
        const double eta = progress.elapsed() * (1 - done) / done;
        std::string line = "step " + std::to_string(state_.step) + "/" + std::to_string(total) + " (epoch " +
                           std::to_string(epoch + 1) + ")  train loss " + format_metric(state_.train_loss.back());
        if (std::isfinite(state_.train_metric.back()))
          line += "  train metric " + format_metric(state_.train_metric.back());
        if (std::isfinite(state_.validation_metric.back()))
          line += "  validation metric " + format_metric(state_.validation_metric.back());
        line += "  ETA " + format_duration(eta);
        std::fprintf(stderr, "%s\n", line.c_str());
      }
    }
    const bool checkpoint_now =
        (epoch_end && options_.checkpoint_every > 0 && state_.epoch % options_.checkpoint_every == 0) ||
        (state_.step == total && options_.checkpoint_every > 0);
    if (!options_.output_dir.empty() && rank_ == 0 && (evaluate_now || checkpoint_now)) {
      write_logs();
      if (checkpoint_now) nn::save_checkpoint(options_.output_dir / "checkpoint.h5", contents());
    }
  }
  if (talk && tty) progress.finish("done");
  return state_;
}

template <class T>
double Trainer<T>::evaluate(const Dataset<T>& data, const Loss<T>& metric) {
  data.validate("evaluation data");
  NEUROPS_CHECK(data.size() > 0, "evaluation data: empty");
  const bool was_training = model_.training();
  model_.eval();
  double sum = 0;
  for (index_t b = 0; b < data.size(); b += options_.eval_batch_size) {
    const index_t e = std::min(b + options_.eval_batch_size, data.size());
    const Batch<T> batch = data.batch(iota_rows(b, e));
    const Tensor<T> out = run(batch);
    sum += metric.evaluate(out, Tensor<T>(batch.targets.reshaped(out.shape())), nullptr) * double(e - b);
  }
  model_.train(was_training);
  return sum / double(data.size());
}

template <class T>
double Trainer<T>::evaluate(const Dataset<T>& data) {
  std::unique_ptr<Loss<T>> holder;
  return evaluate(data, metric_for(data, holder));
}

template <class T>
Tensor<T> Trainer<T>::predict(const Dataset<T>& data) {
  const bool was_training = model_.training();
  model_.eval();
  Tensor<T> out;
  for (index_t b = 0; b < data.size(); b += options_.eval_batch_size) {
    const index_t e = std::min(b + options_.eval_batch_size, data.size());
    place_rows(out, data.size(), b, run(data.batch(iota_rows(b, e))));
  }
  model_.train(was_training);
  return out;
}

template <class T>
Tensor<T> Trainer<T>::predict(const Tensor<T>& inputs) {
  const bool was_training = model_.training();
  model_.eval();
  Tensor<T> out;
  for (index_t b = 0; b < inputs.size(0); b += options_.eval_batch_size) {
    const index_t e = std::min(b + options_.eval_batch_size, inputs.size(0));
    Batch<T> batch;
    batch.inputs.emplace_back(inputs.slice(b, e));
    place_rows(out, inputs.size(0), b, run(batch));
  }
  model_.train(was_training);
  return out;
}

template <class T>
void Trainer<T>::restore_best() {
  auto dst = model_.named_parameters();
  if (!best_.empty()) {
    for (std::size_t i = 0; i < dst.size(); ++i) dst[i].param->value = best_[i];
    return;
  }
  if (state_.best_step < 0) return;  // nothing evaluated yet: the current parameters are all there is
  // A resumed run: the best parameters are in best.h5 beside the checkpoint it resumed from.
  const fs::path best =
      !options_.output_dir.empty() ? options_.output_dir / "best.h5" : resumed_from_.parent_path() / "best.h5";
  NEUROPS_CHECK(fs::exists(best), "trainer: the best step " << state_.best_step
                                                            << " was recorded in an earlier run, but " << best.string()
                                                            << " (its parameters) does not exist");
  CheckpointContents<T> c;
  c.model = &model_;
  nn::load_checkpoint(best, c);
}

template <class T>
void Trainer<T>::write_logs() const {
  auto cell = [](double v) {
    std::ostringstream s;
    s.precision(10);
    if (std::isfinite(v)) s << v;
    return s.str();
  };
  std::ostringstream csv;
  csv << "step,train_loss,train_metric,validation_metric,learning_rate,seconds\n";
  for (std::size_t e = 0; e < state_.points(); ++e)
    csv << static_cast<std::int64_t>(state_.steps[e]) << "," << cell(state_.train_loss[e]) << ","
        << cell(state_.train_metric[e]) << "," << cell(state_.validation_metric[e]) << ","
        << cell(state_.learning_rate[e]) << "," << cell(state_.seconds[e]) << "\n";
  io::write_text_atomically(options_.output_dir / "loss.csv", csv.str());
  auto f = io::H5File::create(options_.output_dir / "history.h5");
  auto series = [&](const std::string& n, const std::vector<double>& v) {
    f.write(n, Tensor<double>({static_cast<index_t>(v.size())}, v));
  };
  series("/steps", state_.steps);
  series("/train_loss", state_.train_loss);
  series("/train_metric", state_.train_metric);
  series("/validation_metric", state_.validation_metric);
  series("/learning_rate", state_.learning_rate);
  series("/seconds", state_.seconds);
  f.set_attr("/", "best_step", state_.best_step);
  f.set_attr("/", "best_epoch", state_.best_epoch);
  f.commit();
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace neurops::nn
