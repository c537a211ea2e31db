#pragma once
// Umbrella header: everything neurops offers. Include the area headers directly to build faster.
#include "neurops/version.hpp"

// core
#include "neurops/core/error.hpp"
#include "neurops/core/fftw.hpp"
#include "neurops/core/options.hpp"
#include "neurops/core/petsc.hpp"
#include "neurops/core/progress.hpp"
#include "neurops/core/random.hpp"
#include "neurops/core/strings.hpp"
#include "neurops/core/tensor.hpp"

// io
#include "neurops/io/hdf5.hpp"
#include "neurops/io/petsc_fields.hpp"
#include "neurops/io/plot.hpp"
#include "neurops/io/png.hpp"
#include "neurops/io/xdmf.hpp"

// nn: modules, layers, spectral transforms, optimisation, training
#include "neurops/nn/activation.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/conv.hpp"
#include "neurops/nn/conv_transpose.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/distributed.hpp"
#include "neurops/nn/field_training.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/nn/init.hpp"
#include "neurops/nn/linear.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/model.hpp"
#include "neurops/nn/module.hpp"
#include "neurops/nn/norm.hpp"
#include "neurops/nn/normalizer.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/pooling.hpp"
#include "neurops/nn/scheduler.hpp"
#include "neurops/nn/spectral_conv.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/nn/time_series.hpp"
#include "neurops/nn/trainer.hpp"
#include "neurops/nn/transforms.hpp"

// operators
#include "neurops/operators/dcdm_net.hpp"
#include "neurops/operators/deeponet.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/mgno.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/operators/model_registry.hpp"

// pde
#include "neurops/pde/darcy.hpp"
#include "neurops/pde/deeponet_data.hpp"
#include "neurops/pde/grf.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/pde/navier_stokes.hpp"
#include "neurops/pde/poisson.hpp"
#include "neurops/pde/rk45.hpp"

// solvers
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/dcdm.hpp"
#include "neurops/solvers/dcdm_training.hpp"
#include "neurops/solvers/dmda_bridge.hpp"
#include "neurops/solvers/linear_solver.hpp"
#include "neurops/solvers/pc_sorbandit.hpp"
#include "neurops/solvers/petsc_types.hpp"
#include "neurops/solvers/solver_comparison.hpp"
#include "neurops/solvers/sor.hpp"
#include "neurops/solvers/system_io.hpp"
