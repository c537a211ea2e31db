#pragma once
// The CNN of the Deep Conjugate Direction Method (Kaneda et al., ICML 2023): it maps a residual r
// (normalised to unit norm) of the 7-point Poisson system on an n^3 grid to a search direction q.
//
//   DcdmNetConfig c;                       // the N=64 variant: 4/6/4 convolutions, 16 channels
//   c = DcdmNetConfig::from_options("dcdm_", c);   // -dcdm_variant n128, -dcdm_channels ...
//   DcdmNet<float> net(c);
//   Tensor<float> r({1, 1, 64, 64, 64});   // (N, 1, Z, Y, X); every side even
//   Tensor<float> q = net.forward(r);       // same shape
//
// Architecture (the reference's src/train.py, every convolution 3x3x3 "same" with zero padding):
//   f   = conv(b)                                   linear, 1 -> C channels
//   la  = relu(conv(f))
//   pre_pairs times:  lb = relu(conv(la)); la = relu(conv(lb)) + la
//   lb  = relu(conv(la))                            -> pre_convs = 2 + 2 pre_pairs convolutions
//   a   = avgpool2(lb)
//   mid_pairs times:  a = relu(conv(relu(conv(a)))) + a            (half resolution)
//   u   = upsample_nearest2(a) + lb                 skip from full resolution
//   post_pairs times: u = relu(conv(relu(conv(u)))) + u
//   q   = head(u)                                   linear 1x1x1, C -> 1 (Keras' Dense(1))
// N=64 model: 4/6/4 convolutions after the first (97,457 parameters); N=128: 6/10/6 (152,881).
// Initialisation as Keras' defaults: Glorot-uniform kernels, zero biases.
// The network is fully convolutional: a model trained at one n applies at any grid with even sides.
//
// Modules and parameter names: "stem" (Sequential: conv, conv, relu, residual pairs, conv, relu),
// "middle" (Sequential: pool, residual pairs), "up", "tail" (Sequential: residual pairs, head).
#include <cstdint>
#include <string>

#include "neurops/nn/conv.hpp"
#include "neurops/nn/model.hpp"
#include "neurops/nn/module.hpp"
#include "neurops/nn/pooling.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::operators {

struct DcdmNetConfig {
  index_t channels = 16;
  index_t pre_convs = 4;   // full-resolution convolutions after the first (even, >= 2)
  index_t mid_convs = 6;   // half-resolution convolutions (even, >= 0)
  index_t post_convs = 4;  // full-resolution convolutions after the upsampling (even, >= 0)
  std::uint64_t seed = 0;  // initialisation

  /// The reference's variants: n = 64 (4/6/4) or 128 (6/10/6); Error for any other n.
  static DcdmNetConfig variant(int n);
  /// Reads `-<prefix>variant n64|n128` (a preset), then `-<prefix>channels`, `-<prefix>pre_convs`,
  /// `-<prefix>mid_convs`, `-<prefix>post_convs`, `-<prefix>seed` over the values of `defaults`.
  static DcdmNetConfig from_options(const std::string& prefix, const DcdmNetConfig& defaults);
  static DcdmNetConfig from_options(const std::string& prefix = "dcdm_");
  /// Error naming the field and the accepted values.
  void validate() const;
  void save(io::H5File& file, const std::string& group) const;
  /// Error if the group is absent or holds another model's configuration.
  static DcdmNetConfig load(const io::H5File& file, const std::string& group);
  bool operator==(const DcdmNetConfig& o) const;
  index_t parameter_count() const;
};

/// The model type name written in checkpoints (attribute model_type and /config "model").
inline constexpr const char* kDcdmNetType = "DCDMNet3d";

template <class T>
class DcdmNet : public nn::FieldModel<T> {
 public:
  explicit DcdmNet(DcdmNetConfig config);
  std::string type_name() const override { return kDcdmNetType; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;
  const DcdmNetConfig& config() const noexcept { return config_; }
  index_t in_channels() const override { return 1; }
  index_t out_channels() const override { return 1; }
  void save_config(io::H5File& file, const std::string& group) const override { config_.save(file, group); }
  /// Error naming the grid when `shape` is not (N, 1, Z, Y, X) with even sides >= 2.
  static void check_input_shape(const Shape& shape);

 protected:
  /// x: (N, 1, Z, Y, X) with Z, Y, X even; returns (N, 1, Z, Y, X).
  Tensor<T> forward_field(const Tensor<T>& x) override;
  Tensor<T> backward_field(const Tensor<T>& dy) override;

 private:
  DcdmNetConfig config_;
  nn::Sequential<T> stem_, middle_, tail_;
  nn::Upsample<T> up_;
};

/// Loads a DCDM network saved by nn::save_checkpoint (config in /config). Errors name the file
/// when it is missing, not an HDF5 file, or holds another model type.
template <class T>
DcdmNet<T> load_dcdm_net(const std::string& path);

extern template class DcdmNet<float>;
extern template class DcdmNet<double>;

}  // namespace neurops::operators
