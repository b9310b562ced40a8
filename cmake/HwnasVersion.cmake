# Generates build/generated/hwnas_version.h on every build with the git commit (refreshed only when
# it changes, so it does not force rebuilds).
set(HWNAS_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
add_custom_target(hwnas_version_header
  COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${HWNAS_GENERATED_DIR}/hwnas_version.h
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/write_version.cmake
  BYPRODUCTS ${HWNAS_GENERATED_DIR}/hwnas_version.h
  COMMENT "" VERBATIM)
