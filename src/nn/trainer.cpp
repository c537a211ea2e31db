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

template <class T>
Trainer<T>::Trainer(Module<T>& model, Optimizer<T>& optimizer, LrScheduler<T>* scheduler, const Loss<T>& loss,
                    TrainerOptions options, ConfigWriter write_config)
    : model_(model),
      optimizer_(optimizer),
      scheduler_(scheduler),
      loss_(loss),
      options_(std::move(options)),
      write_config_(std::move(write_config)) {
  NEUROPS_CHECK(options_.epochs >= 0, "trainer: epochs must be >= 0, found " << options_.epochs);
  NEUROPS_CHECK(options_.batch_size >= 1, "trainer: batch size must be >= 1, found " << options_.batch_size);
  if (options_.comm != MPI_COMM_NULL) {
    MPI_Comm_rank(options_.comm, &rank_);
    MPI_Comm_size(options_.comm, &size_);
  }
  NEUROPS_CHECK(options_.batch_size >= size_, "trainer: global batch " << options_.batch_size << " is smaller than the "
                                                                       << size_ << " ranks sharing it");
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
  c.write_config = &write_config_;
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
}

template <class T>
double Trainer<T>::train_batch(const FieldDataset<T>& train, const std::vector<index_t>& batch, std::int64_t epoch,
                               index_t b) {
  const index_t global = static_cast<index_t>(batch.size());
  const auto [lo, hi] = rank_share(global, rank_, size_);
  const std::vector<index_t> local(batch.begin() + lo, batch.begin() + hi);
  double local_loss = 0;
  if (!local.empty()) {
    const Tensor<T> x = gather_rows<T>(train.inputs.view(), local);
    const Tensor<T> y = gather_rows<T>(train.targets.view(), local);
    Tensor<T> out = model_.forward(x);
    output_norm_.decode(out);
    Tensor<T> grad;
    local_loss = loss_.evaluate(out, y, &grad);
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
const TrainingState& Trainer<T>::fit(const FieldDataset<T>& train, const FieldDataset<T>* validation) {
  train.validate("training data");
  NEUROPS_CHECK(train.size() > 0, "training data: the training split is empty");
  if (validation) {
    validation->validate("validation data");
    NEUROPS_CHECK(validation->size() > 0, "validation data: the validation split is empty");
  }
  // Encode the inputs once; targets stay in physical units.
  FieldDataset<T> encoded{train.inputs, train.targets};
  input_norm_.encode(encoded.inputs);

  std::vector<index_t> all(static_cast<std::size_t>(train.size()));
  for (index_t i = 0; i < train.size(); ++i) all[static_cast<std::size_t>(i)] = i;
  BatchSampler sampler(all, options_.batch_size, true, options_.seed);
  const index_t batches = sampler.num_batches();
  const std::int64_t first = state_.epoch;
  Progress progress((options_.epochs - first) * batches, "train");
  if (!options_.verbose || rank_ != 0) progress = Progress(1, "train", 1e300);

  for (std::int64_t epoch = first; epoch < options_.epochs; ++epoch) {
    Timer timer;
    model_.train();
    sampler.set_epoch(epoch);
    double sum = 0;
    for (index_t b = 0; b < batches; ++b) {
      const auto batch = sampler.batch(b);
      try {
        sum += train_batch(encoded, batch, epoch, b) * double(batch.size());
      } catch (const Error& e) {
        const std::string where = "epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1);
        if (e.message().find(where) != std::string::npos) throw;
        throw Error(e.file().c_str(), e.line(), "training stopped at " + where + ": " + e.message());
      }
      if (options_.verbose) {
        std::ostringstream st;
        st.precision(3);
        st << "epoch " << epoch + 1 << "/" << options_.epochs << " loss " << std::scientific << sum / double((b + 1) * options_.batch_size)
           << " lr " << optimizer_.lr(0);
        progress.update((epoch - first) * batches + b + 1, st.str());
      }
    }
    state_.train_loss.push_back(sum / double(train.size()));
    state_.learning_rate.push_back(optimizer_.lr(0));
    if (scheduler_ && !options_.scheduler_per_batch) scheduler_->step();
    double metric = NAN;
    if (validation) {
      const LpLoss<T> rel_l2(validation->inputs.rank() - 2, 2.0, true);
      metric = evaluate(*validation, metric_ ? *metric_ : rel_l2);
      if (metric < state_.best_metric) {
        state_.best_metric = metric;
        state_.best_epoch = epoch + 1;
        best_ = model_.clone();
        if (options_.save_best && !options_.output_dir.empty() && rank_ == 0)
          nn::save_checkpoint(options_.output_dir / "best.h5", contents());
      }
    }
    state_.validation_metric.push_back(metric);
    state_.epoch_seconds.push_back(timer.seconds());
    state_.epoch = epoch + 1;
    if (!options_.output_dir.empty() && rank_ == 0) {
      write_logs();
      if (options_.checkpoint_every > 0 && state_.epoch % options_.checkpoint_every == 0)
        nn::save_checkpoint(options_.output_dir / "checkpoint.h5", contents());
    }
    if (options_.verbose && rank_ == 0 && !isatty(fileno(stderr))) {
      std::fprintf(stderr, "epoch %lld/%lld  train loss %.4e  validation rel. L2 %.4e  %.2f s\n", (long long)(epoch + 1),
                   (long long)options_.epochs, state_.train_loss.back(), metric, state_.epoch_seconds.back());
    }
  }
  if (options_.verbose) progress.finish("done");
  return state_;
}

template <class T>
double Trainer<T>::evaluate(const FieldDataset<T>& data, const Loss<T>& metric) {
  data.validate("evaluation data");
  NEUROPS_CHECK(data.size() > 0, "evaluation data: empty");
  const bool was_training = model_.training();
  model_.eval();
  double sum = 0;
  for (index_t b = 0; b < data.size(); b += options_.eval_batch_size) {
    const index_t e = std::min(b + options_.eval_batch_size, data.size());
    Tensor<T> x(data.inputs.slice(b, e));
    input_norm_.encode(x);
    Tensor<T> out = model_.forward(x);
    output_norm_.decode(out);
    sum += metric.evaluate(out, Tensor<T>(data.targets.slice(b, e))) * double(e - b);
  }
  model_.train(was_training);
  return sum / double(data.size());
}

template <class T>
Tensor<T> Trainer<T>::predict(const Tensor<T>& inputs) {
  const bool was_training = model_.training();
  model_.eval();
  Tensor<T> out;
  for (index_t b = 0; b < inputs.size(0); b += options_.eval_batch_size) {
    const index_t e = std::min(b + options_.eval_batch_size, inputs.size(0));
    Tensor<T> x(inputs.slice(b, e));
    input_norm_.encode(x);
    Tensor<T> y = model_.forward(x);
    output_norm_.decode(y);
    if (out.empty()) out = Tensor<T>(y.shape().with(0, inputs.size(0)));
    std::copy(y.begin(), y.end(), out.data() + b * y.shape().tail_numel(1));
  }
  model_.train(was_training);
  return out;
}

template <class T>
void Trainer<T>::restore_best() {
  if (!best_) return;
  auto src = best_->named_parameters();
  auto dst = model_.named_parameters();
  for (std::size_t i = 0; i < dst.size(); ++i) dst[i].param->value = src[i].param->value;
}

template <class T>
void Trainer<T>::write_logs() const {
  std::ostringstream csv;
  csv.precision(10);
  csv << "epoch,train_loss,validation_rel_l2,learning_rate,seconds\n";
  for (std::size_t e = 0; e < state_.train_loss.size(); ++e)
    csv << e + 1 << "," << state_.train_loss[e] << "," << state_.validation_metric[e] << "," << state_.learning_rate[e]
        << "," << state_.epoch_seconds[e] << "\n";
  io::write_text_atomically(options_.output_dir / "loss.csv", csv.str());
  auto f = io::H5File::create(options_.output_dir / "history.h5");
  auto series = [&](const std::string& n, const std::vector<double>& v) {
    f.write(n, Tensor<double>({static_cast<index_t>(v.size())}, v));
  };
  series("/train_loss", state_.train_loss);
  series("/validation_rel_l2", state_.validation_metric);
  series("/learning_rate", state_.learning_rate);
  series("/epoch_seconds", state_.epoch_seconds);
  f.set_attr("/", "best_epoch", state_.best_epoch);
  f.commit();
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace neurops::nn
