#include "neurops/core/options.hpp"

#include <petscsys.h>

#include <algorithm>
#include <sstream>

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

void Options::describe(const std::string& name, const std::string& type, const std::string& def,
                       const std::string& value, const std::string& help) {
  if (!help_) return;
  if (!header_printed_) {
    PetscPrintf(PETSC_COMM_WORLD, "%s options:\n", title_.c_str());
    header_printed_ = true;
  }
  std::string line = "  " + key(name) + " <" + type + " " + def + ">";
  if (value != def) line += " (now " + value + ")";
  PetscPrintf(PETSC_COMM_WORLD, "%-44s %s\n", line.c_str(), help.c_str());
}

std::int64_t Options::integer(const std::string& name, std::int64_t def, const std::string& help) {
  PetscInt v = static_cast<PetscInt>(def);
  PetscBool set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsGetInt(nullptr, nullptr, key(name).c_str(), &v, &set));
  describe(name, "int", std::to_string(def), std::to_string(v), help);
  return v;
}

double Options::real(const std::string& name, double def, const std::string& help) {
  PetscReal v = def;
  PetscBool set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsGetReal(nullptr, nullptr, key(name).c_str(), &v, &set));
  describe(name, "real", fmt(def), fmt(v), help);
  return v;
}

bool Options::flag(const std::string& name, bool def, const std::string& help) {
  PetscBool v = def ? PETSC_TRUE : PETSC_FALSE;
  PetscBool set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsGetBool(nullptr, nullptr, key(name).c_str(), &v, &set));
  describe(name, "bool", def ? "true" : "false", v ? "true" : "false", help);
  return v;
}

std::string Options::string(const std::string& name, const std::string& def, const std::string& help) {
  char buf[PETSC_MAX_PATH_LEN] = {0};
  PetscBool set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsGetString(nullptr, nullptr, key(name).c_str(), buf, sizeof buf, &set));
  const std::string v = set ? std::string(buf) : def;
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

std::vector<double> Options::reals(const std::string& name, const std::vector<double>& def, const std::string& help) {
  std::vector<PetscReal> v(64);
  PetscInt n = static_cast<PetscInt>(v.size());
  PetscBool set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsGetRealArray(nullptr, nullptr, key(name).c_str(), v.data(), &n, &set));
  std::vector<double> out = set ? std::vector<double>(v.begin(), v.begin() + n) : def;
  describe(name, "reals", join(def), join(out), help);
  return out;
}

std::vector<std::int64_t> Options::integers(const std::string& name, const std::vector<std::int64_t>& def,
                                            const std::string& help) {
  std::vector<PetscInt> v(64);
  PetscInt n = static_cast<PetscInt>(v.size());
  PetscBool set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsGetIntArray(nullptr, nullptr, key(name).c_str(), v.data(), &n, &set));
  std::vector<std::int64_t> out = set ? std::vector<std::int64_t>(v.begin(), v.begin() + n) : def;
  describe(name, "ints", join(def), join(out), help);
  return out;
}

}  // namespace neurops
