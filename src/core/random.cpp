#include "neurops/core/random.hpp"

#include <cmath>
#include <cstring>

#include "neurops/core/error.hpp"

namespace neurops {

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& v : s_) v = splitmix64(x);
}

Rng Rng::stream(std::uint64_t seed, std::uint64_t stream_id) {
  std::uint64_t x = stream_id;
  return Rng(seed ^ splitmix64(x));
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t Rng::integer(std::uint64_t n) {
  NEUROPS_CHECK(n > 0, "Rng::integer: expected n > 0");
  const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
  std::uint64_t r;
  do r = next_u64();
  while (r >= limit);
  return r % n;
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

double Rng::gamma(double shape) {
  NEUROPS_CHECK(shape > 0, "Rng::gamma: expected shape > 0, found " << shape);
  if (shape < 1.0) {  // boost: Gamma(a) = Gamma(a+1) * U^(1/a)
    const double u = uniform();
    return gamma(shape + 1.0) * std::pow(u > 0 ? u : 0x1.0p-53, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double Rng::beta(double a, double b) {
  const double x = gamma(a), y = gamma(b);
  return x / (x + y);
}

void Rng::shuffle(std::vector<std::int64_t>& v) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(integer(i));
    std::swap(v[i - 1], v[j]);
  }
}

std::array<std::int64_t, 4> Rng::State::signed_words() const {
  std::array<std::int64_t, 4> out{};
  std::memcpy(out.data(), s.data(), sizeof out);
  return out;
}
void Rng::State::set_signed_words(const std::int64_t* words) { std::memcpy(s.data(), words, sizeof s); }

Rng::State Rng::state() const { return State{s_, has_spare_, spare_}; }
void Rng::set_state(const State& st) {
  s_ = st.s;
  has_spare_ = st.has_spare_normal;
  spare_ = st.spare_normal;
}

}  // namespace neurops
