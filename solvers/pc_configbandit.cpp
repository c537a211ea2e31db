// PC type "configbandit": a bandit over whole preconditioner configurations (see pc_configbandit.hpp).
#include "neurops/solvers/pc_configbandit.hpp"

#include <petsc/private/pcimpl.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <sstream>
#include <utility>

#include "neurops/core/petsc.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/solvers/bandit_state.hpp"
#include "neurops/solvers/bandits.hpp"
#include "write_learner_state.hpp"

namespace neurops::solvers {

namespace {

// One arm as the user wrote it: the PC type and its options (names with the leading '-').
struct OptionSet {
  std::string text;  // trimmed, as reported and stored in the state file
  std::string type;
  std::vector<std::pair<std::string, std::string>> options;  // value empty for a flag
};

struct ConfigBandit {
  ArmSetConfig config;
  std::string configs;  // -pc_configbandit_configs as given
  std::vector<OptionSet> sets;
  std::vector<PetscPC> inner;  // one per arm, kept so their set-up is reused
  // The operator (id, state) each inner PC was last set up for, and the one of the previous solve.
  std::vector<std::pair<PetscObjectId, PetscObjectState>> setup_for;
  std::pair<PetscObjectId, PetscObjectState> previous_solve{0, -1};
  bool cost_is_time = true;
  bool view_at_destroy = false;
  std::string state_path;
  std::unique_ptr<BanditLearner> learner;
  int arm = -1;
  Timer solve_timer;
  std::int64_t solves = 0, not_converged = 0;
  double total_cost = 0;
  std::int64_t solves_at_view = -1;  // solves when -ksp_view last showed the report: not repeated at destroy
};

ConfigBandit* data_of(PC pc) { return static_cast<ConfigBandit*>(pc->data); }
MPI_Comm comm_of(PC pc) { return PetscObjectComm(reinterpret_cast<PetscObject>(pc)); }

// Exceptions must not cross PETSc's C frames: convert them to a PETSc error with the message.
#define CONFIGBANDIT_TRY(pc, body)                                              \
  try {                                                                         \
    body                                                                        \
  } catch (const std::exception& e) {                                           \
    SETERRQ(comm_of(pc), PETSC_ERR_ARG_WRONG, "pc configbandit: %s", e.what()); \
  }

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// "-1.5" and "-.5" are values, "-pc_sor_omega" is an option name.
bool is_option_name(const std::string& token) {
  return token.size() > 1 && token[0] == '-' && !std::isdigit(static_cast<unsigned char>(token[1])) && token[1] != '.';
}

OptionSet parse_set(const std::string& option, const std::string& text, std::size_t k) {
  OptionSet set{trim(text), "", {}};
  std::istringstream in(set.text);
  std::vector<std::string> tokens;
  for (std::string t; in >> t;) tokens.push_back(t);
  NEUROPS_CHECK(!tokens.empty(), option << ": option set " << k
                                        << " is empty; expected a PC type "
                                           "followed by its options");
  NEUROPS_CHECK(!is_option_name(tokens[0]), option << ": option set " << k << " '" << set.text
                                                   << "' starts with the option " << tokens[0]
                                                   << "; expected a PC type first");
  set.type = tokens[0];
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    NEUROPS_CHECK(is_option_name(tokens[i]), option << ": option set " << k << " '" << set.text
                                                    << "': expected an option name "
                                                       "(-name), found '"
                                                    << tokens[i] << "'");
    const bool has_value = i + 1 < tokens.size() && !is_option_name(tokens[i + 1]);
    set.options.emplace_back(tokens[i], has_value ? tokens[i + 1] : "");
    if (has_value) ++i;
  }
  return set;
}

std::vector<OptionSet> parse_sets(const std::string& option, const std::string& configs) {
  std::vector<OptionSet> sets;
  std::size_t begin = 0;
  for (std::size_t k = 0;; ++k) {
    const auto end = configs.find(';', begin);
    sets.push_back(
        parse_set(option, configs.substr(begin, end == std::string::npos ? std::string::npos : end - begin), k));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return sets;
}

std::string arm_prefix(PC pc, std::size_t k) {
  const char* prefix = nullptr;
  NEUROPS_PETSC(PCGetOptionsPrefix(pc, &prefix));
  return std::string(prefix ? prefix : "") + "configbandit_" + std::to_string(k) + "_";
}

// A new inner PC for arm k, set from the options database (its options are there already).
PetscPC new_inner(PC pc, const OptionSet& set, std::size_t k) {
  PetscPC inner;
  NEUROPS_PETSC(PCCreate(comm_of(pc), inner.out()));
  NEUROPS_PETSC(PCSetOptionsPrefix(inner, arm_prefix(pc, k).c_str()));
  NEUROPS_PETSC(PCSetType(inner, set.type.c_str()));
  if (pc->mat) NEUROPS_PETSC(PCSetOperators(inner, pc->mat, pc->pmat));
  NEUROPS_PETSC(PCSetFromOptions(inner));
  return inner;
}

// The inner PC of arm k with its options in the database; every option must be read by the PC.
PetscPC make_arm(PC pc, const std::string& option, const OptionSet& set, std::size_t k) {
  NEUROPS_PETSC(PCInitializePackage());
  PetscErrorCode (*create)(PC) = nullptr;
  NEUROPS_PETSC(PetscFunctionListFind(PCList, set.type.c_str(), &create));
  NEUROPS_CHECK(create,
                option << ": option set " << k << " '" << set.text << "': unknown PC type '" << set.type << "'");
  const std::string prefix = arm_prefix(pc, k);
  for (const auto& [name, value] : set.options) {
    const std::string full = "-" + prefix + name.substr(1);
    NEUROPS_PETSC(PetscOptionsSetValue(nullptr, full.c_str(), value.empty() ? nullptr : value.c_str()));
  }
  PetscPC inner = new_inner(pc, set, k);
  for (const auto& [name, value] : set.options) {
    PetscBool used = PETSC_FALSE;
    NEUROPS_PETSC(PetscOptionsUsed(nullptr, (prefix + name.substr(1)).c_str(), &used));
    NEUROPS_CHECK(used, option << ": option set " << k << " '" << set.text << "': option " << name
                               << " is not read by PC type " << set.type
                               << " (misspelt, or an option of another type)");
  }
  return inner;
}

// Parses -pc_configbandit_configs and makes the inner PCs (again only when the list changed).
void build_arms(PC pc, ConfigBandit& s, const std::string& configs) {
  if (configs == s.configs && !s.inner.empty()) {
    for (auto& inner : s.inner) NEUROPS_PETSC(PCSetFromOptions(inner));
    return;
  }
  const char* prefix = nullptr;
  NEUROPS_PETSC(PCGetOptionsPrefix(pc, &prefix));
  const std::string option = "-" + std::string(prefix ? prefix : "") + "pc_configbandit_configs";
  auto sets = parse_sets(option, configs);
  std::vector<PetscPC> inner;
  for (std::size_t k = 0; k < sets.size(); ++k) inner.push_back(make_arm(pc, option, sets[k], k));
  s.configs = configs;
  s.sets = std::move(sets);
  s.inner = std::move(inner);
  s.setup_for.assign(s.inner.size(), {0, -1});
  s.learner.reset();  // another arm set: a new learner (from the state file when present)
  s.arm = -1;
}

std::vector<std::string> arm_texts(const ConfigBandit& s) {
  std::vector<std::string> out;
  for (const auto& set : s.sets) out.push_back(set.text);
  return out;
}

// The learner: continued from the state file when one is given and present, new otherwise.
void ensure_learner(ConfigBandit& s) {
  if (s.learner) return;
  s.config.arms = static_cast<int>(s.sets.size());
  const bool resume = !s.state_path.empty() && std::filesystem::exists(s.state_path);
  s.learner = resume ? load_arm_set_state(s.state_path, s.config, arm_texts(s)) : make_arm_set_learner(s.config);
}

PetscErrorCode setup(PC pc) {
  PetscFunctionBeginUser;
  ConfigBandit* s = data_of(pc);
  PetscCheck(!s->inner.empty(), comm_of(pc), PETSC_ERR_ARG_WRONGSTATE,
             "pc configbandit: no option sets; give -%spc_configbandit_configs \"type opts;type opts;...\"",
             ((PetscObject)pc)->prefix ? ((PetscObject)pc)->prefix : "");
  CONFIGBANDIT_TRY(pc, {
    for (auto& inner : s->inner) NEUROPS_PETSC(PCSetOperators(inner, pc->mat, pc->pmat));
    ensure_learner(*s);
  })
  PetscFunctionReturn(0);
}

// Every rank must play the same arm: the same seed and the same (MPI_MAX-reduced) costs make the
// learners agree; a disagreement would be a bug, so it is an error rather than silently overridden.
void check_same_arm(PC pc, int arm) {
  int range[2] = {-arm, arm};
  NEUROPS_CHECK(MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_INT, MPI_MAX, comm_of(pc)) == MPI_SUCCESS,
                "MPI_Allreduce failed");
  NEUROPS_CHECK(-range[0] == range[1], "the ranks chose different arms (" << -range[0] << " to " << range[1] << ")");
}

std::pair<PetscObjectId, PetscObjectState> operator_version(Mat A) {
  std::pair<PetscObjectId, PetscObjectState> v{0, 0};
  NEUROPS_PETSC(PetscObjectGetId(reinterpret_cast<PetscObject>(A), &v.first));
  NEUROPS_PETSC(PetscObjectStateGet(reinterpret_cast<PetscObject>(A), &v.second));
  return v;
}

// Sets up the inner PC of `arm` for the current operator. Played at the previous solve too, it is set
// up as PETSc does (SAME_NONZERO_PATTERN: GAMG keeps its interpolation and eigenvalue estimates, ICC
// its symbolic factor). Not played while the operator changed, it is replaced by a new PC of the same
// options: what it would reuse belongs to an operator that may be far from this one (GAMG's reused
// interpolation then gave an indefinite preconditioner on the heat sequence at 127^2 unknowns, and
// so did GAMG after PCReset, hence a new object rather than a reset one).
void set_up_arm(PC pc, ConfigBandit& s, int arm) {
  const auto k = static_cast<std::size_t>(arm);
  const auto now = operator_version(pc->pmat);
  int stale = s.setup_for[k] != now && s.setup_for[k].second >= 0 && s.setup_for[k] != s.previous_solve;
  // Object ids and states are counted per process: every rank replaces the PC (collective) or none.
  NEUROPS_CHECK(MPI_Allreduce(MPI_IN_PLACE, &stale, 1, MPI_INT, MPI_MAX, comm_of(pc)) == MPI_SUCCESS,
                "MPI_Allreduce failed");
  if (stale) {
    s.inner[k] = new_inner(pc, s.sets[k], k);
  }
  NEUROPS_PETSC(PCSetUp(s.inner[k]));
  NEUROPS_PETSC(PCSetUpOnBlocks(s.inner[k]));
  s.setup_for[k] = now;
  s.previous_solve = now;
}

PetscErrorCode presolve(PC pc, KSP, Vec, Vec) {
  PetscFunctionBeginUser;
  ConfigBandit* s = data_of(pc);
  CONFIGBANDIT_TRY(pc, {
    ensure_learner(*s);
    s->arm = static_cast<int>(s->learner->choose());
    check_same_arm(pc, s->arm);
    s->solve_timer.restart();  // the cost includes the chosen PC's set-up
    set_up_arm(pc, *s, s->arm);
  })
  PetscFunctionReturn(0);
}

PetscErrorCode postsolve(PC pc, KSP ksp, Vec, Vec) {
  PetscFunctionBeginUser;
  ConfigBandit* s = data_of(pc);
  CONFIGBANDIT_TRY(pc, {
    double seconds = s->solve_timer.seconds();
    NEUROPS_CHECK(MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, comm_of(pc)) == MPI_SUCCESS,
                  "MPI_Allreduce failed");
    PetscInt its = 0;
    KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
    NEUROPS_PETSC(KSPGetIterationNumber(ksp, &its));
    NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
    const double cost = s->cost_is_time ? seconds : double(its);
    s->learner->observe(1.0 + cost);  // loss cost / mean cost (see the header)
    ++s->solves;
    s->total_cost += cost;
    if (reason < 0) ++s->not_converged;
  })
  PetscFunctionReturn(0);
}

// The PC of the current solve; outside a KSPSolve the last one chosen (arm 0 before any), set up here.
PC current(PC pc, ConfigBandit& s) {
  const PC inner = s.inner[static_cast<std::size_t>(s.arm < 0 ? 0 : s.arm)];
  if (!pc->presolvedone) NEUROPS_PETSC(PCSetUp(inner));
  return inner;
}

PetscErrorCode apply(PC pc, Vec x, Vec y) {
  PetscFunctionBeginUser;
  CONFIGBANDIT_TRY(pc, { NEUROPS_PETSC(PCApply(current(pc, *data_of(pc)), x, y)); })
  PetscFunctionReturn(0);
}

PetscErrorCode apply_transpose(PC pc, Vec x, Vec y) {
  PetscFunctionBeginUser;
  CONFIGBANDIT_TRY(pc, { NEUROPS_PETSC(PCApplyTranspose(current(pc, *data_of(pc)), x, y)); })
  PetscFunctionReturn(0);
}

PetscErrorCode set_from_options(PC pc, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBeginUser;
  ConfigBandit* s = data_of(pc);
  const ArmSetConfig before = s->config;
  const char* learners[] = {"tsallis", "fixed"};
  const char* costs[] = {"time", "iterations"};
  const char* normalisers[] = {"safeguarded", "reference"};
  PetscOptionsHeadBegin(PetscOptionsObject, "Configuration bandit options (online choice among option sets)");
  char configs[4096];
  PetscCall(PetscStrncpy(configs, s->configs.c_str(), sizeof configs));
  PetscCall(PetscOptionsString("-pc_configbandit_configs", "Option sets 'type opts;type opts;...', one arm each",
                               "PCCONFIGBANDIT", configs, configs, sizeof configs, nullptr));
  PetscInt learner = s->config.learner == "fixed" ? 1 : 0;
  PetscCall(PetscOptionsEList("-pc_configbandit_learner", "Bandit learner choosing the option set", "PCCONFIGBANDIT",
                              learners, 2, learners[learner], &learner, nullptr));
  s->config.learner = learners[learner];
  PetscInt fixed = s->config.fixed_arm;
  PetscCall(PetscOptionsInt("-pc_configbandit_fixed", "Arm (0-based) of the fixed learner", "PCCONFIGBANDIT", fixed,
                            &fixed, nullptr));
  s->config.fixed_arm = static_cast<int>(fixed);
  PetscInt cost = s->cost_is_time ? 0 : 1;
  PetscCall(PetscOptionsEList("-pc_configbandit_cost",
                              "Cost the learner minimises: wall time (with set-up) or "
                              "KSP iterations",
                              "PCCONFIGBANDIT", costs, 2, costs[cost], &cost, nullptr));
  s->cost_is_time = cost == 0;
  PetscInt normaliser = s->config.tsallis_normaliser == "reference" ? 1 : 0;
  PetscCall(
      PetscOptionsEList("-pc_configbandit_tsallis_normalizer",
                        "Tsallis-INF normaliser: safeguarded (exact distribution) or reference (as the paper's code)",
                        "PCCONFIGBANDIT", normalisers, 2, normalisers[normaliser], &normaliser, nullptr));
  s->config.tsallis_normaliser = normalisers[normaliser];
  PetscInt seed = static_cast<PetscInt>(s->config.seed);
  PetscCall(PetscOptionsInt("-pc_configbandit_seed", "Seed of the learner's random choices", "PCCONFIGBANDIT", seed,
                            &seed, nullptr));
  s->config.seed = static_cast<std::uint64_t>(seed);
  PetscBool view = s->view_at_destroy ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(PetscOptionsBool("-pc_configbandit_view", "Print what the learner learned when the PC is destroyed",
                             "PCCONFIGBANDIT", view, &view, nullptr));
  s->view_at_destroy = view;
  char state[PETSC_MAX_PATH_LEN];
  PetscCall(PetscStrncpy(state, s->state_path.c_str(), sizeof state));
  PetscCall(PetscOptionsString("-pc_configbandit_state",
                               "HDF5 file of the learner's state: continued from when present, written at destroy",
                               "PCCONFIGBANDIT", state, state, sizeof state, nullptr));
  const bool state_changed = s->state_path != state;
  s->state_path = state;
  PetscOptionsHeadEnd();
  CONFIGBANDIT_TRY(pc, {
    if (configs[0]) build_arms(pc, *s, configs);
    NEUROPS_CHECK(s->config.learner != "fixed" || s->inner.empty() ||
                      (s->config.fixed_arm >= 0 && s->config.fixed_arm < int(s->inner.size())),
                  "-pc_configbandit_fixed " << s->config.fixed_arm << ": expected an arm 0.." << s->inner.size() - 1);
  })
  const bool changed = before.learner != s->config.learner || before.fixed_arm != s->config.fixed_arm ||
                       before.seed != s->config.seed || before.tsallis_normaliser != s->config.tsallis_normaliser;
  if (changed || state_changed) s->learner.reset();  // a new configuration or file: a new learner
  PetscFunctionReturn(0);
}

std::string describe(const ConfigBandit& s) {
  std::ostringstream os;
  os << "configbandit: learner " << s.config.learner << ", " << s.sets.size() << " option sets, cost "
     << (s.cost_is_time ? "wall time of the solve with set-up [s]" : "KSP iterations") << "\n";
  os << "configbandit: " << s.solves << " solves in this run, total cost " << s.total_cost << ", not converged "
     << s.not_converged << "\n";
  if (!s.learner) return os.str();
  const auto& pulls = s.learner->pulls();
  const auto means = s.learner->mean_costs();  // of 1 + cost
  os << "configbandit: " << s.learner->rounds() << " solves learned from in all (a resumed state's included)\n";
  os << "  arm   pulls   share   mean cost  option set\n";
  for (std::size_t k = 0; k < s.sets.size(); ++k) {
    const double share = s.learner->rounds() ? double(pulls[k]) / double(s.learner->rounds()) : 0.0;
    char mean[32] = "         -";  // never played
    if (pulls[k]) std::snprintf(mean, sizeof mean, "%10.4g", means[k] - 1.0);
    char line[96];
    std::snprintf(line, sizeof line, "  %3zu  %6lld  %5.1f%%  %s  ", k, static_cast<long long>(pulls[k]), 100.0 * share,
                  mean);
    os << line << s.sets[k].text << "\n";
  }
  return os.str();
}

PetscErrorCode view(PC pc, PetscViewer viewer) {
  PetscFunctionBeginUser;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (ascii) {
    ConfigBandit* s = data_of(pc);
    std::istringstream lines(describe(*s));
    for (std::string line; std::getline(lines, line);) PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", line.c_str()));
    s->solves_at_view = s->solves;
    if (s->arm >= 0) {  // the configuration of the last solve, as PETSc describes it
      PetscCall(PetscViewerASCIIPrintf(viewer, "configbandit: option set %d of the last solve:\n", s->arm));
      PetscCall(PetscViewerASCIIPushTab(viewer));
      PetscCall(PCView(s->inner[static_cast<std::size_t>(s->arm)], viewer));
      PetscCall(PetscViewerASCIIPopTab(viewer));
    }
  }
  PetscFunctionReturn(0);
}

// Writes the learner's state to -pc_configbandit_state (rank 0 writes; every rank learns whether it worked).
PetscErrorCode write_state(PC pc, const ConfigBandit& s) {
  if (s.state_path.empty() || !s.learner) return 0;
  return write_learner_state(pc, "-pc_configbandit_state", s.state_path,
                             [&] { save_arm_set_state(s.state_path, *s.learner, s.config, arm_texts(s)); });
}

PetscErrorCode destroy(PC pc) {
  PetscFunctionBeginUser;
  const std::unique_ptr<ConfigBandit> s(data_of(pc));  // freed on every path out
  pc->data = nullptr;
  if (s->view_at_destroy && s->solves_at_view != s->solves)
    PetscCall(PetscPrintf(comm_of(pc), "%s", describe(*s).c_str()));
  PetscCall(write_state(pc, *s));
  PetscFunctionReturn(0);
}

PetscErrorCode create(PC pc) {
  PetscFunctionBeginUser;
  pc->data = new ConfigBandit();
  pc->ops->setup = setup;
  pc->ops->apply = apply;
  pc->ops->applytranspose = apply_transpose;
  pc->ops->presolve = presolve;
  pc->ops->postsolve = postsolve;
  pc->ops->setfromoptions = set_from_options;
  pc->ops->view = view;
  pc->ops->destroy = destroy;
  PetscFunctionReturn(0);
}

ConfigBandit& checked(PC pc) {
  PetscBool same = PETSC_FALSE;
  NEUROPS_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(pc), PCCONFIGBANDIT, &same));
  NEUROPS_CHECK(same, "expected a PC of type " << PCCONFIGBANDIT);
  return *data_of(pc);
}

}  // namespace

PetscErrorCode PCCreate_ConfigBandit(PC pc) { return create(pc); }

const BanditLearner* configbandit_learner(PC pc) { return checked(pc).learner.get(); }
std::vector<std::string> configbandit_arm_set(PC pc) { return arm_texts(checked(pc)); }
int configbandit_arm(PC pc) { return checked(pc).arm; }

}  // namespace neurops::solvers
