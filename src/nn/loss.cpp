#include "neurops/nn/loss.hpp"

#include <cmath>
#include <complex>
#include <numbers>

#include "neurops/nn/transforms.hpp"

namespace neurops::nn {

namespace {

template <class T>
index_t check_pair(const Tensor<T>& prediction, const Tensor<T>& target, int d, const std::string& loss) {
  NEUROPS_CHECK(prediction.shape() == target.shape(),
                loss << ": prediction has shape " << prediction.shape() << ", target " << target.shape());
  NEUROPS_CHECK(
      prediction.rank() >= d + 1 && prediction.numel() > 0,
      loss << ": tensors of shape " << prediction.shape() << " need a batch axis and " << d << " spatial axes");
  return prediction.size(0);
}

double reduce(const std::vector<double>& per_sample, Reduction r) {
  double s = 0;
  for (double v : per_sample) s += v;
  return r == Reduction::mean ? s / double(per_sample.size()) : s;
}

double reduction_factor(index_t batch, Reduction r) { return r == Reduction::mean ? 1.0 / double(batch) : 1.0; }

/// Spacing of each of the last d axes of a domain of length L.
std::vector<double> spacings(const Shape& s, int d, double length) {
  std::vector<double> h;
  for (int a = s.rank() - d; a < s.rank(); ++a) h.push_back(length / double(s[a]));
  return h;
}

}  // namespace

// ---- MSE ----------------------------------------------------------------------------------------

template <class T>
double MseLoss<T>::evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad) const {
  check_pair(prediction, target, 0, name());
  const index_t n = prediction.numel();
  const double f = reduction_ == Reduction::mean ? 1.0 / double(n) : 1.0;
  double sum = 0;
  if (grad) *grad = Tensor<T>::uninitialized(prediction.shape());
  for (index_t i = 0; i < n; ++i) {
    const double e = double(prediction[i]) - double(target[i]);
    sum += e * e;
    if (grad) (*grad)[i] = static_cast<T>(2 * f * e);
  }
  return f * sum;
}

// ---- relative / absolute Lp ---------------------------------------------------------------------

template <class T>
LpLoss<T>::LpLoss(int d, double p, bool relative, Reduction reduction, double domain_length)
    : d_(d), p_(p), relative_(relative), reduction_(reduction), length_(domain_length) {
  NEUROPS_CHECK(d >= 1 && p >= 1 && domain_length > 0,
                "LpLoss: needs d >= 1, p >= 1 and a positive domain length; got d " << d << ", p " << p << ", L "
                                                                                    << domain_length);
}

template <class T>
double LpLoss<T>::evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad) const {
  const index_t B = check_pair(prediction, target, d_, name());
  const index_t S = prediction.numel() / B;
  double quad = 1;  // (prod h)^(1/p) for the absolute norm
  if (!relative_) {
    for (double h : spacings(prediction.shape(), d_, length_)) quad *= h;
    quad = std::pow(quad, 1.0 / p_);
  }
  auto abs_pow = [&](double v) { return p_ == 2 ? v * v : std::pow(std::abs(v), p_); };
  std::vector<double> values(static_cast<std::size_t>(B));
  if (grad) *grad = Tensor<T>::uninitialized(prediction.shape());
  const double f = reduction_factor(B, reduction_);
  for (index_t b = 0; b < B; ++b) {
    const T* x = prediction.data() + b * S;
    const T* y = target.data() + b * S;
    double se = 0, sy = 0;
    for (index_t i = 0; i < S; ++i) {
      se += abs_pow(double(x[i]) - double(y[i]));
      if (relative_) sy += abs_pow(double(y[i]));
    }
    const double ne = std::pow(se, 1.0 / p_);
    const double denom = relative_ ? std::pow(sy, 1.0 / p_) : 1.0 / quad;
    NEUROPS_CHECK(!relative_ || denom > 0,
                  name() << ": target sample " << b << " is zero; the relative norm is undefined");
    values[static_cast<std::size_t>(b)] = ne / denom;
    if (grad) {
      // d||e||_p / de_i = |e_i|^(p-1) sign(e_i) / ||e||_p^(p-1)
      T* g = grad->data() + b * S;
      for (index_t i = 0; i < S; ++i) {
        const double e = double(x[i]) - double(y[i]);
        const double d =
            ne > 0 ? std::pow(std::abs(e), p_ - 1) * (e > 0 ? 1 : (e < 0 ? -1 : 0)) / std::pow(ne, p_ - 1) : 0.0;
        g[i] = static_cast<T>(f * d / denom);
      }
    }
  }
  return reduce(values, reduction_);
}

// ---- H1 -----------------------------------------------------------------------------------------

namespace {

/// Applies the difference operator D along one spatial axis (or its transpose, accumulating) to
/// every line of a (lines_outer, n, inner) block.
void difference(const double* in, double* out, index_t outer, index_t n, index_t inner, double h, bool periodic,
                bool transpose) {
  for (index_t o = 0; o < outer; ++o)
    for (index_t i = 0; i < n; ++i) {
      // Stencil of output i: (a, ca), (b, cb)
      index_t a, b;
      double ca, cb;
      if (periodic) {
        a = (i + 1) % n, b = (i + n - 1) % n, ca = 1 / (2 * h), cb = -1 / (2 * h);
      } else if (i == 0) {
        a = 1, b = 0, ca = 1 / h, cb = -1 / h;
      } else if (i == n - 1) {
        a = n - 1, b = n - 2, ca = 1 / h, cb = -1 / h;
      } else {
        a = i + 1, b = i - 1, ca = 1 / (2 * h), cb = -1 / (2 * h);
      }
      for (index_t k = 0; k < inner; ++k) {
        const index_t base = o * n * inner + k;
        if (!transpose) {
          out[base + i * inner] = ca * in[base + a * inner] + cb * in[base + b * inner];
        } else {
          out[base + a * inner] += ca * in[base + i * inner];
          out[base + b * inner] += cb * in[base + i * inner];
        }
      }
    }
}

}  // namespace

template <class T>
H1Loss<T>::H1Loss(int d, std::vector<bool> periodic, bool relative, Reduction reduction, double domain_length)
    : d_(d), periodic_(std::move(periodic)), relative_(relative), reduction_(reduction), length_(domain_length) {
  NEUROPS_CHECK(d >= 1 && d <= 3, "H1Loss: d = " << d << " spatial axes; 1, 2 or 3 supported");
  if (periodic_.empty()) periodic_.assign(static_cast<std::size_t>(d), true);
  NEUROPS_CHECK(static_cast<int>(periodic_.size()) == d,
                "H1Loss: " << periodic_.size() << " periodicity flags for " << d << " spatial axes");
  NEUROPS_CHECK(domain_length > 0, "H1Loss: domain length " << domain_length << " must be positive");
}

template <class T>
double H1Loss<T>::evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad) const {
  const index_t B = check_pair(prediction, target, d_, name());
  const index_t S = prediction.numel() / B;
  const Shape shape = prediction.shape();
  const auto h = spacings(shape, d_, length_);
  for (int j = 0; j < d_; ++j)
    NEUROPS_CHECK(shape[shape.rank() - d_ + j] >= 2, name() << ": spatial axis " << j << " of shape " << shape
                                                            << " needs at least 2 points for differences");
  double quad = 1;
  for (double v : h) quad *= v;
  // Squared H1 seminorm + L2 norm of one sample, and optionally its gradient (accumulated).
  auto h1_squared = [&](const std::vector<double>& u, std::vector<double>* gradient) {
    double total = 0;
    for (double v : u) total += v * v;
    if (gradient)
      for (std::size_t i = 0; i < u.size(); ++i) (*gradient)[i] = 2 * u[i];
    std::vector<double> du(u.size()), back(u.size());
    for (int j = 0; j < d_; ++j) {
      const int axis = shape.rank() - d_ + j;
      const index_t n = shape[axis], inner = shape.tail_numel(axis + 1), outer = S / (n * inner);
      difference(u.data(), du.data(), outer, n, inner, h[static_cast<std::size_t>(j)],
                 periodic_[static_cast<std::size_t>(j)], false);
      for (double v : du) total += v * v;
      if (gradient) {
        std::fill(back.begin(), back.end(), 0.0);
        difference(du.data(), back.data(), outer, n, inner, h[static_cast<std::size_t>(j)],
                   periodic_[static_cast<std::size_t>(j)], true);
        for (std::size_t i = 0; i < u.size(); ++i) (*gradient)[i] += 2 * back[i];
      }
    }
    return total;
  };
  std::vector<double> values(static_cast<std::size_t>(B));
  if (grad) *grad = Tensor<T>::uninitialized(shape);
  const double f = reduction_factor(B, reduction_);
  std::vector<double> e(static_cast<std::size_t>(S)), y(static_cast<std::size_t>(S)), ge(static_cast<std::size_t>(S));
  for (index_t b = 0; b < B; ++b) {
    for (index_t i = 0; i < S; ++i) {
      y[static_cast<std::size_t>(i)] = double(target[b * S + i]);
      e[static_cast<std::size_t>(i)] = double(prediction[b * S + i]) - y[static_cast<std::size_t>(i)];
    }
    const double qe = h1_squared(e, grad ? &ge : nullptr);
    const double denom2 = relative_ ? h1_squared(y, nullptr) : 1.0 / quad;
    NEUROPS_CHECK(denom2 > 0, name() << ": target sample " << b << " is zero; the relative norm is undefined");
    const double value = std::sqrt(qe / denom2);
    values[static_cast<std::size_t>(b)] = value;
    if (grad) {
      // d sqrt(qe/den) = dqe / (2 sqrt(qe) sqrt(den))
      const double c = qe > 0 ? f / (2 * std::sqrt(qe) * std::sqrt(denom2)) : 0.0;
      for (index_t i = 0; i < S; ++i) (*grad)[b * S + i] = static_cast<T>(c * ge[static_cast<std::size_t>(i)]);
    }
  }
  return reduce(values, reduction_);
}

// ---- periodic Sobolev norm ----------------------------------------------------------------------

template <class T>
SobolevLoss<T>::SobolevLoss(int d, double s, double alpha, double domain_length, bool relative, Reduction reduction)
    : d_(d), s_(s), alpha_(alpha), length_(domain_length), relative_(relative), reduction_(reduction) {
  NEUROPS_CHECK(d >= 1 && d <= 3, "SobolevLoss: d = " << d << " spatial axes; 1, 2 or 3 supported");
  NEUROPS_CHECK(alpha >= 0 && (alpha > 0 || s >= 0),
                "SobolevLoss: alpha = " << alpha << " with s = " << s << "; alpha must be >= 0, and > 0 when s < 0");
  NEUROPS_CHECK(domain_length > 0, "SobolevLoss: domain length " << domain_length << " must be positive");
}

template <class T>
std::vector<double> SobolevLoss<T>::squared_norms(const Tensor<T>& field, Tensor<T>* gradient_of_square) const {
  const Shape& shape = field.shape();
  NEUROPS_CHECK(shape.rank() >= d_ + 1 && field.numel() > 0,
                name() << ": field of shape " << shape << " needs a batch axis and " << d_ << " spatial axes");
  const index_t B = shape[0];
  std::vector<index_t> n(static_cast<std::size_t>(d_));
  index_t N = 1;
  for (int j = 0; j < d_; ++j) N *= (n[static_cast<std::size_t>(j)] = shape[shape.rank() - d_ + j]);
  const index_t howmany = field.numel() / N, per_sample = howmany / B;
  const index_t h = n.back() / 2 + 1, spec = N / n.back() * h;
  // Symbol (alpha + |2 pi k / L|^2)^s on the half spectrum, times the Hermitian multiplicity.
  std::vector<double> symbol(static_cast<std::size_t>(spec)), mult(static_cast<std::size_t>(spec));
  const double w = 2 * std::numbers::pi / length_;
  for (index_t i = 0; i < spec; ++i) {
    index_t rest = i;
    double k2 = 0;
    for (int j = d_ - 1; j >= 0; --j) {
      const index_t ext = j == d_ - 1 ? h : n[static_cast<std::size_t>(j)];
      const index_t idx = rest % ext;
      rest /= ext;
      const index_t k =
          (j == d_ - 1 || 2 * idx <= n[static_cast<std::size_t>(j)]) ? idx : idx - n[static_cast<std::size_t>(j)];
      k2 += double(k) * double(k);
      if (j == d_ - 1) mult[static_cast<std::size_t>(i)] = detail::hermitian_multiplicity(idx, n.back());
    }
    symbol[static_cast<std::size_t>(i)] = std::pow(alpha_ + w * w * k2, s_);
  }
  using C = std::complex<T>;
  std::vector<C> E(static_cast<std::size_t>(howmany * spec));
  Fft<T>::rfftn(n, howmany, field.data(), E.data());
  const double volume = std::pow(length_, d_);
  const double c = volume / (double(N) * double(N));
  std::vector<double> q(static_cast<std::size_t>(B), 0.0);
  for (index_t r = 0; r < howmany; ++r)
    for (index_t i = 0; i < spec; ++i) {
      const std::size_t at = static_cast<std::size_t>(r * spec + i);
      q[static_cast<std::size_t>(r / per_sample)] += c * mult[static_cast<std::size_t>(i)] *
                                                     symbol[static_cast<std::size_t>(i)] *
                                                     std::norm(std::complex<double>(E[at]));
      E[at] *= static_cast<T>(symbol[static_cast<std::size_t>(i)]);
    }
  if (gradient_of_square) {
    // d(q)/d(field) = 2 L^d / N^2 * c2r(symbol * E)
    *gradient_of_square = Tensor<T>::uninitialized(shape);
    Fft<T>::irfftn_unnormalised(n, howmany, E.data(), gradient_of_square->data());
    gradient_of_square->vec() *= static_cast<T>(2 * c);
  }
  return q;
}

template <class T>
std::vector<double> SobolevLoss<T>::norms(const Tensor<T>& field) const {
  auto q = squared_norms(field, nullptr);
  for (auto& v : q) v = std::sqrt(v);
  return q;
}

template <class T>
double SobolevLoss<T>::evaluate(const Tensor<T>& prediction, const Tensor<T>& target, Tensor<T>* grad) const {
  const index_t B = check_pair(prediction, target, d_, name());
  Tensor<T> e = prediction;
  e.vec() -= target.vec();
  Tensor<T> gq;
  const auto q = squared_norms(e, grad ? &gq : nullptr);
  std::vector<double> denom(static_cast<std::size_t>(B), 1.0);
  if (relative_) {
    denom = norms(target);
    for (index_t b = 0; b < B; ++b)
      NEUROPS_CHECK(denom[static_cast<std::size_t>(b)] > 0,
                    name() << ": target sample " << b << " has zero norm; the relative norm is undefined");
  }
  std::vector<double> values(static_cast<std::size_t>(B));
  for (index_t b = 0; b < B; ++b)
    values[static_cast<std::size_t>(b)] =
        std::sqrt(q[static_cast<std::size_t>(b)]) / denom[static_cast<std::size_t>(b)];
  if (grad) {
    const index_t S = prediction.numel() / B;
    const double f = reduction_factor(B, reduction_);
    *grad = std::move(gq);
    for (index_t b = 0; b < B; ++b) {
      const double nq = std::sqrt(q[static_cast<std::size_t>(b)]);
      const double c = nq > 0 ? f / (2 * nq * denom[static_cast<std::size_t>(b)]) : 0.0;
      for (index_t i = 0; i < S; ++i) (*grad)[b * S + i] = static_cast<T>(c * double((*grad)[b * S + i]));
    }
  }
  return reduce(values, reduction_);
}

template class MseLoss<float>;
template class MseLoss<double>;
template class LpLoss<float>;
template class LpLoss<double>;
template class H1Loss<float>;
template class H1Loss<double>;
template class SobolevLoss<float>;
template class SobolevLoss<double>;

}  // namespace neurops::nn
