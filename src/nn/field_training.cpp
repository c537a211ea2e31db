#include "neurops/nn/field_training.hpp"

#include <algorithm>
#include <memory>

#include "neurops/core/progress.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/scheduler.hpp"
#include "neurops/nn/trainer.hpp"

namespace neurops::nn {

namespace {
template <class T>
std::unique_ptr<Loss<T>> make_loss(const std::string& name, int dims, bool periodic) {
  if (name == "h1")
    return std::make_unique<H1Loss<T>>(dims, std::vector<bool>(static_cast<std::size_t>(dims), periodic));
  NEUROPS_CHECK(name == "l2", "field training: loss '" << name << "' is unknown, expected h1 or l2");
  return std::make_unique<LpLoss<T>>(dims);
}
}  // namespace

template <class T>
FieldTrainingResult<T> train_field_operator(Model<T>& model, const FieldDataset<T>& train,
                                            const std::type_identity_t<FieldDataset<T>>* validation,
                                            const FieldTrainingSettings& s) {
  train.validate("training data");
  NEUROPS_CHECK(s.epochs >= 1 && s.batch_size >= 1,
                "field training: epochs and batch size must be >= 1, found " << s.epochs << " and " << s.batch_size);
  const int dims = train.inputs.rank() - 2;
  Adam<T> adam(model, {.lr = s.lr, .weight_decay = s.weight_decay});
  const index_t batches = (train.size() + s.batch_size - 1) / s.batch_size;
  OneCycleLr<T> schedule(adam, s.lr, std::max<std::int64_t>(2, s.epochs * batches));  // OneCycle needs >= 2 steps
  const auto loss = make_loss<T>(s.loss, dims, s.periodic);
  TrainerOptions o;
  o.epochs = s.epochs;
  o.batch_size = s.batch_size;
  o.seed = s.seed;
  o.scheduler_per_batch = true;
  o.output_dir = s.output_dir;
  o.save_best = validation != nullptr;
  o.checkpoint_every = s.output_dir.empty() ? 0 : 1;
  o.verbose = s.verbose;
  o.comm = s.comm;
  Trainer<T> trainer(model, adam, &schedule, *loss, o);
  trainer.set_normalizers(Normalizer<T>::unit_gaussian(train.inputs.view(), false),
                          Normalizer<T>::unit_gaussian(train.targets.view(), false));
  Timer timer;
  trainer.fit(train, validation);
  if (validation) trainer.restore_best();
  FieldTrainingResult<T> r;
  r.seconds = timer.seconds();
  r.input_normalizer = trainer.input_normalizer();
  r.output_normalizer = trainer.output_normalizer();
  r.state = trainer.state();
  return r;
}

template <class T>
FieldErrors<T> evaluate_field_operator(TrainedModel<T>& model, const FieldDataset<T>& data, bool periodic) {
  data.validate("evaluation data");
  const int dims = data.inputs.rank() - 2;
  FieldErrors<T> e;
  e.predictions = model.predict(data.inputs);
  e.relative_l2 = LpLoss<T>(dims).evaluate(e.predictions, data.targets);
  e.relative_h1 = H1Loss<T>(dims, std::vector<bool>(static_cast<std::size_t>(dims), periodic))
                      .evaluate(e.predictions, data.targets);
  return e;
}

template FieldTrainingResult<float> train_field_operator<float>(Model<float>&, const FieldDataset<float>&,
                                                                const FieldDataset<float>*,
                                                                const FieldTrainingSettings&);
template FieldTrainingResult<double> train_field_operator<double>(Model<double>&, const FieldDataset<double>&,
                                                                  const FieldDataset<double>*,
                                                                  const FieldTrainingSettings&);
template FieldErrors<float> evaluate_field_operator<float>(TrainedModel<float>&, const FieldDataset<float>&, bool);
template FieldErrors<double> evaluate_field_operator<double>(TrainedModel<double>&, const FieldDataset<double>&, bool);

}  // namespace neurops::nn
