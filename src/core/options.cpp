#include "neurops/core/options.hpp"

#include <petscsys.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>

#include "neurops/core/option_report.hpp"
#include "neurops/core/petsc.hpp"

namespace neurops {

namespace {
template <class T>
std::string join(const std::vector<T>& v) {
  std::ostringstream os;
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
  return os.str();
}
std::string fmt(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}
}  // namespace

Options::Options(std::string title, std::string prefix) : title_(std::move(title)), prefix_(std::move(prefix)) {
  PetscBool h = PETSC_FALSE, hh = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsHasName(nullptr, nullptr, "-help", &h));
  NEUROPS_PETSC(PetscOptionsHasName(nullptr, nullptr, "-h", &hh));
  help_ = h || hh;
}

namespace {
// Keys already listed by -help: a name read twice (a driver's -fno_seed and the model's) is listed once.
std::set<std::string>& described_keys() {
  static std::set<std::string> keys;
  return keys;
}
}  // namespace

void Options::solver_prefix(const std::string& prefix, const std::string& help) {
  register_solver_prefix(prefix);
  if (!help_) return;
  print_header();
  const std::string line = "  -" + prefix + "ksp_*, -" + prefix + "pc_*";
  PetscPrintf(PETSC_COMM_WORLD, "%-44s %s (PETSc options with this prefix)\n", line.c_str(), help.c_str());
}

void Options::print_header() {
  if (header_printed_) return;
  PetscPrintf(PETSC_COMM_WORLD, "%s options:\n", title_.c_str());
  header_printed_ = true;
}

void Options::describe(const std::string& name, const std::string& type, const std::string& def,
                       const std::string& value, const std::string& help) {
  register_option_name(key(name));
  if (!help_ || !described_keys().insert(key(name)).second) return;
  print_header();
  std::string line = "  " + key(name) + " <" + type + " " + def + ">";
  if (value != def) line += " (now " + value + ")";
  PetscPrintf(PETSC_COMM_WORLD, "%-44s %s\n", line.c_str(), help.c_str());
}

// Every value is read as text first, so that an option given without a value is an Error naming it
// (PETSc's typed getters keep the default for "-gen_samples" alone), integers are parsed as 64 bits with
// a range check (PetscOptionsGetInt truncates to a 32-bit PetscInt: -gen_samples 4294967298 gave 2), and
// parse errors name the option instead of the C++ expression that read it.
std::optional<std::string> Options::text(const std::string& name) const {
  char buf[PETSC_MAX_PATH_LEN] = {0};
  PetscBool set = PETSC_FALSE;
  try {
    NEUROPS_PETSC(PetscOptionsGetString(nullptr, nullptr, key(name).c_str(), buf, sizeof buf, &set));
  } catch (const Error& e) {
    NEUROPS_THROW("option " << key(name) << ": cannot read its value: " << e.message());
  }
  if (!set) return std::nullopt;
  NEUROPS_CHECK(buf[0] != '\0', "option " << key(name) << " was given without a value");
  NEUROPS_CHECK(std::strlen(buf) + 1 < sizeof buf,
                "option " << key(name) << ": value longer than " << sizeof buf - 2 << " characters");
  return std::string(buf);
}

std::int64_t Options::integer(const std::string& name, std::int64_t def, const std::string& help) {
  return integer(name, def, help, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
}

std::int64_t Options::integer(const std::string& name, std::int64_t def, const std::string& help, std::int64_t min,
                              std::int64_t max) {
  const auto t = text(name);
  const std::int64_t v = t ? parse_integer(name, *t) : def;
  describe(name, "int", std::to_string(def), std::to_string(v), help);
  if (t) check_range(name, v, min, max);
  return v;
}

std::int64_t Options::parse_integer(const std::string& name, const std::string& t) const {
  std::int64_t v = 0;
  const char* first = t.data() + (t.size() > 1 && t[0] == '+' ? 1 : 0);
  const char* last = t.data() + t.size();
  const auto [end, ec] = std::from_chars(first, last, v);
  NEUROPS_CHECK(ec != std::errc::result_out_of_range,
                "option " << key(name) << ": " << t << " is out of the 64-bit integer range");
  NEUROPS_CHECK(ec == std::errc() && end == last,
                "option " << key(name) << ": expected an integer, found '" << t << "'");
  return v;
}

void Options::check_range(const std::string& name, std::int64_t v, std::int64_t min, std::int64_t max) const {
  if (v >= min && v <= max) return;
  std::ostringstream range;
  if (min == std::numeric_limits<std::int64_t>::min())
    range << "at most " << max;
  else if (max == std::numeric_limits<std::int64_t>::max())
    range << "at least " << min;
  else
    range << "between " << min << " and " << max;
  NEUROPS_THROW("option " << key(name) << ": expected " << range.str() << ", found " << v);
}

double Options::parse_real(const std::string& name, const std::string& t) const {
  PetscReal v = 0;
  try {
    NEUROPS_PETSC(PetscOptionsStringToReal(t.c_str(), &v));  // PETSc's syntax: 1e-3, PETSC_DEFAULT, ...
  } catch (const Error&) {
    NEUROPS_THROW("option " << key(name) << ": expected a real number, found '" << t << "'");
  }
  return v;
}

double Options::real(const std::string& name, double def, const std::string& help) {
  const auto t = text(name);
  const double v = t ? parse_real(name, *t) : def;
  describe(name, "real", fmt(def), fmt(v), help);
  return v;
}

bool Options::flag(const std::string& name, bool def, const std::string& help) {
  PetscBool v = def ? PETSC_TRUE : PETSC_FALSE;
  PetscBool set = PETSC_FALSE;
  try {  // "-gen_resume" alone means true, as in PETSc
    NEUROPS_PETSC(PetscOptionsGetBool(nullptr, nullptr, key(name).c_str(), &v, &set));
  } catch (const Error&) {
    NEUROPS_THROW("option " << key(name) << ": expected true/false, yes/no, 1/0 or nothing, found '"
                            << text(name).value_or("") << "'");
  }
  describe(name, "bool", def ? "true" : "false", v ? "true" : "false", help);
  return v;
}

std::string Options::string(const std::string& name, const std::string& def, const std::string& help) {
  const std::string v = text(name).value_or(def);
  describe(name, "string", def.empty() ? "\"\"" : def, v.empty() ? "\"\"" : v, help);
  return v;
}

std::string Options::choice(const std::string& name, const std::string& def, const std::vector<std::string>& choices,
                            const std::string& help) {
  const std::string v = string(name, def, help + " (" + join(choices) + ")");
  NEUROPS_CHECK(std::find(choices.begin(), choices.end(), v) != choices.end(),
                "option " << key(name) << ": expected one of " << join(choices) << ", found '" << v << "'");
  return v;
}

namespace {
/// "a,b,c" split at commas (PETSc's array syntax); an empty element is an error for the caller.
std::vector<std::string> split_commas(const std::string& t) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = t.find(',', start);
    out.push_back(t.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}
}  // namespace

std::vector<double> Options::reals(const std::string& name, const std::vector<double>& def, const std::string& help) {
  const auto t = text(name);
  std::vector<double> out = def;
  if (t) {
    out.clear();
    for (const auto& e : split_commas(*t)) {
      NEUROPS_CHECK(!e.empty(), "option " << key(name) << ": empty element in '" << *t << "'");
      out.push_back(parse_real(name, e));
    }
  }
  describe(name, "reals", join(def), join(out), help);
  return out;
}

std::vector<std::int64_t> Options::integers(const std::string& name, const std::vector<std::int64_t>& def,
                                            const std::string& help) {
  const auto t = text(name);
  std::vector<std::int64_t> out = def;
  if (t) {
    out.clear();
    for (const auto& e : split_commas(*t)) {
      NEUROPS_CHECK(!e.empty(), "option " << key(name) << ": empty element in '" << *t << "'");
      out.push_back(parse_integer(name, e));
    }
  }
  describe(name, "ints", join(def), join(out), help);
  return out;
}

}  // namespace neurops
