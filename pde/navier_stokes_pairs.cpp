#include "neurops/pde/navier_stokes_pairs.hpp"

#include <cmath>
#include <cstring>

#include "neurops/core/strings.hpp"
#include "neurops/io/hdf5.hpp"

namespace neurops::pde {

template <class T>
nn::FieldDataset<T> load_navier_stokes_pairs(const std::filesystem::path& file, double target_time, index_t first,
                                             index_t count) {
  const auto f = io::H5File::open(file);
  const std::string where = "'" + file.string() + "'";
  for (const char* name : {"/inputs", "/outputs"})
    NEUROPS_CHECK(f.is_dataset(name), where << " has no dataset " << name
                                            << "; expected a Navier-Stokes file of neurops_generate -gen_problem "
                                               "navier_stokes");
  NEUROPS_CHECK(f.has_attr("/", "times"), where << " has no attribute 'times' naming the snapshots of /outputs");
  const auto times = f.attr_reals("/", "times");
  const Shape si = f.shape("/inputs"), so = f.shape("/outputs");
  NEUROPS_CHECK(si.rank() == 4 && si[1] == 1 && so.rank() == 4 && so[0] == si[0] &&
                    so[1] == static_cast<index_t>(times.size()) && so[2] == si[2] && so[3] == si[3],
                where << ": expected /inputs (N, 1, n, n) and /outputs (N, " << times.size()
                      << ", n, n) for its times, found " << si << " and " << so);
  index_t frame = -1;
  for (std::size_t t = 0; t < times.size(); ++t)
    if (std::abs(times[t] - target_time) <= 1e-9 * std::max(1.0, std::abs(target_time))) frame = index_t(t);
  NEUROPS_CHECK(frame >= 0, where << " holds no snapshot at t = " << target_time << " (its times: " << join(times)
                                  << "); generate it with -ns_times including " << target_time);
  const index_t n = count < 0 ? si[0] - first : count;
  NEUROPS_CHECK(first >= 0 && n >= 1 && first + n <= si[0],
                where << " holds " << si[0] << " samples, asked for samples [" << first << ", " << first + n << ")");
  const Tensor<T> w0 = f.read_rows<T>("/inputs", first, n);
  const Tensor<T> all = f.read_rows<T>("/outputs", first, n);
  Tensor<T> target = Tensor<T>::uninitialized(Shape{n, 1, si[2], si[3]});
  const index_t pts = si[2] * si[3];
  for (index_t s = 0; s < n; ++s)
    std::memcpy(target.data() + s * pts, all.data() + (s * so[1] + frame) * pts, sizeof(T) * std::size_t(pts));
  return {w0, std::move(target)};
}

template nn::FieldDataset<float> load_navier_stokes_pairs<float>(const std::filesystem::path&, double, index_t,
                                                                 index_t);
template nn::FieldDataset<double> load_navier_stokes_pairs<double>(const std::filesystem::path&, double, index_t,
                                                                   index_t);

}  // namespace neurops::pde
