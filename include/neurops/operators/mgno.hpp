#pragma once
// MgNO (He, Liu, Xu, ICLR 2024): neural operator whose linear layers are multigrid V-cycles.
//
// One layer:   u <- act( W_Mg u + Conv1x1(u) )           (the 1x1 path carries the only bias)
// Model:       no lifting (the raw input channels are the first layer's right-hand side f),
//              `layers` such layers, then a bias-free 1x1 head to the output channels.
//
// W_Mg is one linear multi-channel V-cycle on the pair (u, f), with f the layer's input:
//   level 0:   u = S f, then u <- u + S_i (f - A_i u) for the remaining pre-smoothing steps
//   level l>0: f_l = R (f_{l-1})  or  R (f_{l-1} - A u_{l-1})  (use_residual),  u_l = Pi u_{l-1},
//              then pre-smoothing u_l <- u_l + S_i (f_l - A_i u_l)
//   upward:    u_l <- u_l + P u_{l+1}, then post-smoothing steps on level l
//   result:    u_0
// A_i: 3x3 conv u -> f channels, S_i: 3x3 conv f -> u channels, both bias-free and separate for every
// smoothing step and level; Pi, R: learnable 3x3 stride-2 convs; P: learnable 4x4 stride-2 transposed
// conv. The boundary condition enters only through the padding mode of the 3x3 convolutions
// (zeros = Dirichlet, circular = periodic, reflect). This is MgConv_DC / MgNO_DC of the reference
// code (xlliu2017/MgNO models.py). As there, the coarsest level has no post-smoothing.
//
//   operators::MgnoConfig c;                // width 24, 4 layers, 4 levels (pre-smoothing 1, 1, 1, 2)
//   c.padding_mode = nn::PaddingMode::Zeros; // Dirichlet data
//   operators::Mgno<float> mgno(c);
//   Tensor<float> u = mgno.forward(a);      // a: (N, 1, 64, 64) -> u: (N, 1, 64, 64); sides divisible by 8
//
// Grids: every level halves the grid, so each spatial extent must be divisible by 2^(levels-1) and
// the coarsest grid must have at least 2 points per axis; other grids are rejected with an Error
// naming the grid and the level count. The weights do not depend on the grid: a model trained at
// 64^2 runs at 128^2.
#include <cstdint>
#include <string>
#include <vector>

#include "neurops/nn/activation.hpp"
#include "neurops/nn/conv.hpp"
#include "neurops/nn/conv_transpose.hpp"
#include "neurops/nn/model.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::operators {

struct MgnoConfig {
  index_t in_channels = 1;
  index_t out_channels = 1;
  index_t width = 24;  // channels of u (and of f after the first layer)
  index_t layers = 4;
  // Smoothing steps per level, finest first: pre_smoothing[l] >= 1 (level 0's first step is u = S f),
  // post_smoothing[l] >= 0 with post_smoothing[levels-1] = 0. Both lists have one value per level.
  std::vector<index_t> pre_smoothing{1, 1, 1, 2};
  std::vector<index_t> post_smoothing{0, 0, 0, 0};
  bool use_residual = false;  // restrict f - A u instead of f
  nn::PaddingMode padding_mode = nn::PaddingMode::Zeros;
  nn::ActivationKind activation = nn::ActivationKind::GELU;
  std::uint64_t seed = 0;

  index_t levels() const { return static_cast<index_t>(pre_smoothing.size()); }
  /// Error naming the field and the accepted values when something is out of range.
  void validate() const;
  /// Error naming the grid and the level count when the grid cannot be coarsened `levels - 1` times.
  void check_grid(index_t ny, index_t nx) const;
  void save(io::H5File& file, const std::string& group) const;
  /// Error when the group holds no MgNO configuration (e.g. an FNO checkpoint), naming the file.
  static MgnoConfig load(const io::H5File& file, const std::string& group);
  /// Reads `-<prefix>width`, `-<prefix>pre`, ... from the options database over the current values.
  void set_from_options(const std::string& prefix = "mgno_");
  bool operator==(const MgnoConfig& o) const;
};

/// One smoothing step u <- u + S (f - A u), or u = S f for the very first step (no A).
template <class T>
class MgSmoother : public nn::ModuleBase<T> {
 public:
  MgSmoother(index_t u_channels, index_t f_channels, bool initial, nn::PaddingMode mode, Rng& rng);
  /// Updates u in place (sets it for the initial step).
  void apply(Tensor<T>& u, const Tensor<T>& f);
  /// du: gradient w.r.t. the new u on entry, w.r.t. the old u on return; df accumulates.
  void apply_backward(Tensor<T>& du, Tensor<T>& df);
  std::string type_name() const override { return "MgSmoother"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;

 private:
  bool initial_;
  nn::Conv<T> a_, s_;
};

/// The V-cycle W_Mg: (N, f_channels, H, W) -> (N, u_channels, H, W).
template <class T>
class MgVCycle : public nn::ModuleImpl<MgVCycle<T>, T> {
 public:
  MgVCycle(const MgnoConfig& config, index_t f_channels, Rng& rng);
  Tensor<T> forward(const Tensor<T>& f) override;
  Tensor<T> backward(const Tensor<T>& du) override;
  std::string type_name() const override { return "MgVCycle"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;

 protected:
  void on_mode_change() override { cached_ = false; }

 private:
  struct Level {
    std::vector<MgSmoother<T>> pre, post;
  };
  struct Transfer {  // between level l and l+1
    nn::Conv<T> pi, r;
    std::vector<nn::Conv<T>> residual_a;  // one A when use_residual, else empty
    nn::ConvTranspose<T> p;
  };
  MgnoConfig config_;
  index_t f_channels_;
  std::vector<Level> levels_;
  std::vector<Transfer> transfers_;
  std::vector<Shape> f_shapes_;  // f on each level, for backward
  bool cached_ = false;
};

template <class T>
class Mgno : public nn::FieldModel<T> {
 public:
  explicit Mgno(MgnoConfig config);
  std::string type_name() const override { return "MgNO2d"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;
  const MgnoConfig& config() const noexcept { return config_; }
  index_t in_channels() const override { return config_.in_channels; }
  index_t out_channels() const override { return config_.out_channels; }
  void save_config(io::H5File& file, const std::string& group) const override { config_.save(file, group); }

 protected:
  Tensor<T> forward_field(const Tensor<T>& x) override;
  Tensor<T> backward_field(const Tensor<T>& dy) override;
  void on_mode_change() override { pre_activations_.clear(); }

 private:
  MgnoConfig config_;
  std::vector<MgVCycle<T>> vcycles_;
  std::vector<nn::Conv<T>> pointwise_;
  nn::Conv<T> head_;
  std::vector<Tensor<T>> pre_activations_;  // per layer, training mode only
};

extern template class MgSmoother<float>;
extern template class MgSmoother<double>;
extern template class MgVCycle<float>;
extern template class MgVCycle<double>;
extern template class Mgno<float>;
extern template class Mgno<double>;

}  // namespace neurops::operators
