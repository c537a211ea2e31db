#pragma once
// Learner state files: what an OmegaTuner has learned, saved so that a later process (another run of
// a program, the next script of a sequence) continues learning where this one stopped.
//
//   save_tuner_state("omega.h5", *tuner, config);            // atomically: temporary file + rename
//   auto tuner = load_tuner_state("omega.h5", config);        // continues bit for bit
//
// The file records the learner's configuration (learner, arm set, seed, context range, bins,
// features, Tsallis-INF normaliser) beside its state (TunerState: counters, per-arm sums, weights or
// model, generator state). Loading refuses a file whose configuration differs from the one given,
// naming the field and both values: a user's options are never silently replaced by a file's.
// Layout: docs/file-formats.md, "Learner state".
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "neurops/solvers/bandits.hpp"

namespace neurops::solvers {

/// Version of the learner-state layout this build writes (and the newest it reads).
inline constexpr std::int64_t kTunerStateFormatVersion = 1;

/// Writes `tuner`'s state and `config` (the configuration `tuner` was made with) to `path` atomically:
/// a failed write is an Error naming the file, and a previous file of that name stays intact.
void save_tuner_state(const std::filesystem::path& path, const OmegaTuner& tuner, const TunerConfig& config);

/// A learner made from `config` that continues from the state saved in `path`. A file of another
/// learner, arm set or configuration, a corrupt file or invalid state (non-finite values, negative
/// counts, counters that disagree) is an Error naming the file and what differs.
std::unique_ptr<OmegaTuner> load_tuner_state(const std::filesystem::path& path, const TunerConfig& config);

/// The same for a learner over option sets (PC configbandit): `arm_set` (the option-set strings, one
/// per arm, in order) and `config` are recorded; loading refuses a file of another learner, arm set,
/// seed or normaliser, and a file of an omega tuner (and load_tuner_state refuses one of these).
/// Layout: docs/file-formats.md, "Learner state over option sets".
void save_arm_set_state(const std::filesystem::path& path, const BanditLearner& learner, const ArmSetConfig& config,
                        const std::vector<std::string>& arm_set);
std::unique_ptr<BanditLearner> load_arm_set_state(const std::filesystem::path& path, const ArmSetConfig& config,
                                                  const std::vector<std::string>& arm_set);

}  // namespace neurops::solvers
