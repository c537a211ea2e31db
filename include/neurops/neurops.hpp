#pragma once
// Umbrella header: everything neurops offers. Include the area headers directly to build faster.
#include "neurops/version.hpp"
#include "neurops/core/error.hpp"
#include "neurops/core/options.hpp"
#include "neurops/core/petsc.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/core/random.hpp"
#include "neurops/core/tensor.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/io/png.hpp"
#include "neurops/io/xdmf.hpp"
