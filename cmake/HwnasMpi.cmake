# MPI is optional at build time, like CUDA: HWNAS_MPI=AUTO builds profilers/mpi when an MPI (Debian's
# OpenMPI: libopenmpi-dev, openmpi-bin) is found; without it `--mpi` is refused with the reason.
set(HWNAS_MPI AUTO CACHE STRING "Build the MPI measurement farm: AUTO, ON or OFF")
set_property(CACHE HWNAS_MPI PROPERTY STRINGS AUTO ON OFF)
set(HWNAS_HAVE_MPI OFF)
if(NOT HWNAS_MPI STREQUAL "OFF")
  # The C API from C++ (the project enables no C compiler); no deprecated C++ bindings.
  set(MPI_CXX_SKIP_MPICXX TRUE)
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    set(HWNAS_HAVE_MPI ON)
  elseif(HWNAS_MPI STREQUAL "ON")
    message(FATAL_ERROR "HWNAS_MPI=ON but no MPI was found (install libopenmpi-dev openmpi-bin)")
  endif()
endif()
message(STATUS "hwnas: MPI farm ${HWNAS_HAVE_MPI} (mpiexec: ${MPIEXEC_EXECUTABLE})")
