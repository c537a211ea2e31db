#include "neurops/nn/time_series.hpp"

#include <algorithm>
#include <cmath>

#include "neurops/io/hdf5.hpp"

namespace neurops::nn {

template <class T>
TimeSeriesDataset<T>::TimeSeriesDataset(Tensor<T> trajectories, index_t input_steps, index_t output_steps,
                                        index_t first)
    : trajectories_(std::move(trajectories)), input_steps_(input_steps), output_steps_(output_steps), first_(first) {
  validate("time series");
}

template <class T>
TimeSeriesDataset<T> TimeSeriesDataset<T>::load(const std::filesystem::path& file, const std::string& dataset,
                                                index_t input_steps, index_t output_steps, index_t first) {
  const auto f = io::H5File::open(file);
  NEUROPS_CHECK(f.is_dataset(dataset), "'" << file.string() << "' has no dataset " << dataset
                                           << " (expected trajectories (N, T, spatial...))");
  TimeSeriesDataset d;
  d.trajectories_ = f.read<T>(dataset);
  d.input_steps_ = input_steps;
  d.output_steps_ = output_steps;
  d.first_ = first;
  d.validate("time series '" + file.string() + "':" + dataset);
  return d;
}

template <class T>
void TimeSeriesDataset<T>::validate(const std::string& what) const {
  const Shape& s = trajectories_.shape();
  NEUROPS_CHECK(s.rank() >= 3, what << ": expected trajectories (N, T, spatial...), found " << s);
  NEUROPS_CHECK(input_steps_ >= 1 && output_steps_ >= 1 && first_ >= 0,
                what << ": input and output steps must be >= 1 and the first frame >= 0, found " << input_steps_ << ", "
                     << output_steps_ << " and " << first_);
  NEUROPS_CHECK(first_ + input_steps_ + output_steps_ <= s[1],
                what << ": frames " << first_ << " + " << input_steps_ << " in + " << output_steps_ << " out need "
                     << first_ + input_steps_ + output_steps_ << " time steps, the trajectories have " << s[1]);
  if (!trajectories_.vec().allFinite()) {
    const T* p = std::find_if(trajectories_.begin(), trajectories_.end(), [](T v) { return !std::isfinite(v); });
    const index_t i = p - trajectories_.begin(), per = s.tail_numel(1);
    NEUROPS_THROW(what << ": trajectory " << i / per << " holds a non-finite value at frame "
                       << (i % per) / s.tail_numel(2) << "; the data are corrupt");
  }
}

template <class T>
std::vector<index_t> TimeSeriesDataset<T>::grid() const {
  return trajectories_.shape().tail(2).dims();
}

template <class T>
Tensor<T> TimeSeriesDataset<T>::frames(const std::vector<index_t>& rows, index_t begin, index_t count) const {
  const Shape& s = trajectories_.shape();
  const index_t frame = s.tail_numel(2), steps = s[1];
  Tensor<T> out = Tensor<T>::uninitialized(s.with(0, static_cast<index_t>(rows.size())).with(1, count));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    NEUROPS_CHECK(rows[r] >= 0 && rows[r] < size(),
                  "time series: sample " << rows[r] << " out of range [0, " << size() << ")");
    const T* src = trajectories_.data() + (rows[r] * steps + begin) * frame;
    std::copy(src, src + count * frame, out.data() + static_cast<index_t>(r) * count * frame);
  }
  return out;
}

template <class T>
Batch<T> TimeSeriesDataset<T>::batch(const std::vector<index_t>& rows) const {
  Batch<T> b;
  b.inputs.push_back(frames(rows, first_, input_steps_));
  b.targets = frames(rows, first_ + input_steps_, output_steps_);
  return b;
}

template <class T>
FieldDataset<T> TimeSeriesDataset<T>::fields() const {
  std::vector<index_t> all(static_cast<std::size_t>(size()));
  for (index_t i = 0; i < size(); ++i) all[static_cast<std::size_t>(i)] = i;
  Batch<T> b = batch(all);
  return FieldDataset<T>(std::move(b.inputs[0]), std::move(b.targets));
}

template class TimeSeriesDataset<float>;
template class TimeSeriesDataset<double>;

}  // namespace neurops::nn
