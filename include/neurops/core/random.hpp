#pragma once
// Seeded pseudo-random generator with portable, bit-reproducible distributions.
//
// The standard library's distributions are implementation-defined (libstdc++ and libc++ draw
// different normals from the same engine), so neurops implements its own on xoshiro256**:
// the same seed gives the same bits on every build and platform.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace neurops {

/// A seed derived from a name (64-bit FNV-1a): the same on every platform and build, unlike
/// std::hash, so named cases (tests, samples) get reproducible random streams.
constexpr std::uint64_t seed_from_name(std::string_view name) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

class Rng {
 public:
  /// Full generator state, for checkpoints: restoring it resumes the exact stream.
  struct State {
    std::array<std::uint64_t, 4> s{};
    bool has_spare_normal = false;
    double spare_normal = 0.0;
    /// The four words as signed 64-bit integers, bit for bit (files store int64), and back.
    std::array<std::int64_t, 4> signed_words() const;
    void set_signed_words(const std::int64_t* words);
  };

  explicit Rng(std::uint64_t seed = 0);

  std::uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n) without modulo bias.
  std::uint64_t integer(std::uint64_t n);
  /// Standard normal (Marsaglia polar method).
  double normal();
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  /// Gamma(shape, 1) by Marsaglia–Tsang; shape > 0.
  double gamma(double shape);
  /// Beta(a, b) from two gammas.
  double beta(double a, double b);
  /// Independent stream derived from this seed and a stream id (e.g. one per sample or per rank).
  static Rng stream(std::uint64_t seed, std::uint64_t stream_id);
  /// In-place Fisher–Yates shuffle of indices.
  void shuffle(std::vector<std::int64_t>& v);

  State state() const;
  void set_state(const State& st);

 private:
  std::array<std::uint64_t, 4> s_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace neurops
