#pragma once
// Shared by the solver test executables (defined in fixture.cpp, which also starts PETSc).
#include <petscvec.h>

namespace neurops::test {
/// ||x - y|| / ||y|| in the 2-norm.
double relative_difference(Vec x, Vec y);
}  // namespace neurops::test
