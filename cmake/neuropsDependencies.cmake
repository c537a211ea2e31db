# Resolves neurops' dependencies as imported targets. Used by the build and by the installed
# neuropsConfig.cmake, so a consumer project finds exactly what the library was built against.
#
#   Eigen3::Eigen, MPI::MPI_CXX, OpenMP::OpenMP_CXX, PNG::PNG      (CMake's own find modules)
#   neurops_deps::petsc   PETSc through pkg-config (Debian: petsc-dev)
#   neurops_deps::fftw    FFTW double + single precision with their OpenMP threading libraries
#   neurops_deps::hdf5    the OpenMPI flavour of HDF5, the one PETSc links against; mixing the serial
#                         and the parallel HDF5 in one process breaks at run time.
# Everything here works from a project that enables only the CXX language.
include_guard(GLOBAL)
find_package(Eigen3 3.3 NO_MODULE REQUIRED)
find_package(MPI COMPONENTS CXX REQUIRED)  # CXX only: consumers often enable no C
find_package(OpenMP COMPONENTS CXX REQUIRED)
find_package(PNG REQUIRED)
find_package(PkgConfig REQUIRED)

if(NOT TARGET neurops_deps::petsc)
  pkg_check_modules(NEUROPS_PETSC REQUIRED IMPORTED_TARGET GLOBAL petsc)
  add_library(neurops_deps::petsc ALIAS PkgConfig::NEUROPS_PETSC)
endif()

if(NOT TARGET neurops_deps::fftw)
  pkg_check_modules(NEUROPS_FFTW REQUIRED IMPORTED_TARGET GLOBAL fftw3 fftw3f)
  find_library(NEUROPS_FFTW_OMP fftw3_omp REQUIRED)
  find_library(NEUROPS_FFTWF_OMP fftw3f_omp REQUIRED)
  add_library(neurops_deps_fftw INTERFACE IMPORTED GLOBAL)
  target_link_libraries(neurops_deps_fftw INTERFACE ${NEUROPS_FFTW_OMP} ${NEUROPS_FFTWF_OMP}
                        PkgConfig::NEUROPS_FFTW)
  add_library(neurops_deps::fftw ALIAS neurops_deps_fftw)
endif()

if(NOT TARGET neurops_deps::hdf5)
  # The MPI flavour of HDF5 through pkg-config (Debian names it hdf5-mpi, Fedora and Spack
  # hdf5-openmpi or hdf5): pkg-config works from a project that enabled only CXX, whereas CMake's
  # FindHDF5 needs the C language. FindHDF5 remains the fallback where no such .pc file exists.
  pkg_search_module(NEUROPS_HDF5 QUIET IMPORTED_TARGET GLOBAL hdf5-mpi hdf5-openmpi)
  add_library(neurops_deps_hdf5 INTERFACE IMPORTED GLOBAL)
  if(NEUROPS_HDF5_FOUND)
    target_link_libraries(neurops_deps_hdf5 INTERFACE PkgConfig::NEUROPS_HDF5)
  else()
    set(HDF5_PREFER_PARALLEL TRUE)  # PETSc links the MPI flavour; mixing both breaks at run time
    find_package(HDF5 COMPONENTS C REQUIRED)
    if(NOT HDF5_IS_PARALLEL)
      message(WARNING "neurops: found a serial HDF5 (${HDF5_C_LIBRARIES}); PETSc links the MPI flavour. "
                      "Install libhdf5-openmpi-dev (scripts/install-deps.sh) to avoid run-time clashes.")
    endif()
    if(TARGET hdf5::hdf5)
      target_link_libraries(neurops_deps_hdf5 INTERFACE hdf5::hdf5)
    else()
      target_include_directories(neurops_deps_hdf5 INTERFACE ${HDF5_C_INCLUDE_DIRS})
      target_link_libraries(neurops_deps_hdf5 INTERFACE ${HDF5_C_LIBRARIES})
    endif()
  endif()
  add_library(neurops_deps::hdf5 ALIAS neurops_deps_hdf5)
endif()
