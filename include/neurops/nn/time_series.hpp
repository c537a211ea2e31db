#pragma once
// Time series of fields as training data: trajectories (N, T, spatial...) of a scalar field (the
// vorticity of a Navier-Stokes run, a heat solution), cut into input frames -> output frames:
//
//   sample i:  input  = frames [first, first + input_steps)                 (input_steps, spatial...)
//              target = frames [first + input_steps, ... + output_steps)    (output_steps, spatial...)
//
// The frames stand in the channel axis, as the FNO reference's 2-D+time setting (10 frames in, the
// next frames out) and the Spectral-Refiner's spatiotemporal models expect them; each trajectory
// gives one sample. A Dataset: the Trainer, the normalizers and the losses take it as they take
// field pairs.
//
//   // the trajectories neurops_generate -gen_problem navier_stokes writes: /outputs, (N, T, 64, 64)
//   auto data = nn::TimeSeriesDataset<float>::load("navier_stokes.h5", "/outputs", 10, 40);
//   trainer.fit(data, &validation);
#include <filesystem>
#include <string>
#include <vector>

#include "neurops/nn/data.hpp"

namespace neurops::nn {

template <class T>
class TimeSeriesDataset : public Dataset<T> {
 public:
  TimeSeriesDataset() = default;
  /// trajectories (N, T, spatial...); frames [first, first + input_steps + output_steps) are used.
  TimeSeriesDataset(Tensor<T> trajectories, index_t input_steps, index_t output_steps, index_t first = 0);
  /// Reads `dataset` (float32 or float64 on disk) from `file`; errors name the file and dataset.
  static TimeSeriesDataset load(const std::filesystem::path& file, const std::string& dataset, index_t input_steps,
                                index_t output_steps, index_t first = 0);

  index_t size() const override { return trajectories_.rank() ? trajectories_.size(0) : 0; }
  Batch<T> batch(const std::vector<index_t>& rows) const override;
  void validate(const std::string& what) const override;
  std::vector<index_t> grid() const override;

  /// The frames of every sample as a field dataset (inputs (N, input_steps, ...), targets (N,
  /// output_steps, ...)), e.g. to fit normalizers.
  FieldDataset<T> fields() const;
  index_t input_steps() const noexcept { return input_steps_; }
  index_t output_steps() const noexcept { return output_steps_; }
  const Tensor<T>& trajectories() const noexcept { return trajectories_; }

 private:
  Tensor<T> frames(const std::vector<index_t>& rows, index_t begin, index_t count) const;
  Tensor<T> trajectories_;
  index_t input_steps_ = 1, output_steps_ = 1, first_ = 0;
};

extern template class TimeSeriesDataset<float>;
extern template class TimeSeriesDataset<double>;

}  // namespace neurops::nn
