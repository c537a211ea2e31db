#pragma once
// Options through the PETSc options database (command line, -options_file, PETSC_OPTIONS), with a
// per-object prefix and -help output that lists every option with its default and current value.
//
//   neurops::Options opt("Darcy generator", "darcy_");
//   const auto n   = opt.integer("n", 64, "grid points per side");      // reads -darcy_n
//   const auto tol = opt.real("rtol", 1e-8, "relative KSP tolerance");
//   opt.solver_prefix("darcy_", "the Darcy solver's KSP and PC");         // -darcy_ksp_*, -darcy_pc_*
//   if (opt.help_requested()) return 0;                                   // after declaring all
//
// Every name read here is recorded, so that an option left unused at exit is reported with the
// closest of them (neurops/core/option_report.hpp); -help lists each name once.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace neurops {

/// Every getter is strict: an option given without a value (other than a flag), a value that does not
/// parse, or an integer outside 64 bits or outside [min, max] is an Error naming the option.
class Options {
 public:
  explicit Options(std::string title, std::string prefix = "");
  std::int64_t integer(const std::string& name, std::int64_t def, const std::string& help);
  /// An integer that must lie in [min, max] when given.
  std::int64_t integer(const std::string& name, std::int64_t def, const std::string& help, std::int64_t min,
                       std::int64_t max);
  double real(const std::string& name, double def, const std::string& help);
  bool flag(const std::string& name, bool def, const std::string& help);
  std::string string(const std::string& name, const std::string& def, const std::string& help);
  /// One of `choices`; anything else is an error naming the option and the accepted values.
  std::string choice(const std::string& name, const std::string& def, const std::vector<std::string>& choices,
                     const std::string& help);
  std::vector<double> reals(const std::string& name, const std::vector<double>& def, const std::string& help);
  std::vector<std::int64_t> integers(const std::string& name, const std::vector<std::int64_t>& def,
                                     const std::string& help);
  /// Declares that a PETSc KSP/PC of the program reads options under `-<prefix>ksp_*` and
  /// `-<prefix>pc_*` ("" for PETSc's own -ksp_*, -pc_*): listed by -help (they are read only when the
  /// solver is set up, which -help skips), and their common names become suggestions for typos.
  void solver_prefix(const std::string& prefix, const std::string& help);
  /// True when -help (or -h) was given; drivers exit after declaring their options.
  bool help_requested() const { return help_; }
  const std::string& prefix() const { return prefix_; }

 private:
  void print_header();
  void describe(const std::string& name, const std::string& type, const std::string& def, const std::string& value,
                const std::string& help);
  std::string key(const std::string& name) const { return "-" + prefix_ + name; }
  std::optional<std::string> text(const std::string& name) const;  // the raw value; nullopt when absent
  std::int64_t parse_integer(const std::string& name, const std::string& text) const;
  double parse_real(const std::string& name, const std::string& text) const;
  void check_range(const std::string& name, std::int64_t v, std::int64_t min, std::int64_t max) const;
  std::string title_, prefix_;
  bool help_ = false;
  bool header_printed_ = false;
};

}  // namespace neurops
