# hwnas_module(NAME <module> [SOURCES ...] [DEPENDS <modules>...] [LIBS <targets>...]
#              [FORBID_HEADERS <regex>...])
# One top-level folder = one static library `hwnas_<module>`. DEPENDS lists the hwnas modules it
# may use (DESIGN.md); the include check at the end of the configure enforces it on the sources.
set(HWNAS_MODULES "" CACHE INTERNAL "")
function(hwnas_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;DEPENDS;LIBS;FORBID_HEADERS" ${ARGN})
  set(target hwnas_${M_NAME})
  if(M_SOURCES)
    add_library(${target} STATIC ${M_SOURCES})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} PRIVATE hwnas_warnings)
    foreach(dep IN LISTS M_DEPENDS)
      target_link_libraries(${target} PUBLIC hwnas_${dep})
    endforeach()
    target_link_libraries(${target} PUBLIC ${M_LIBS})
  else()
    # A module whose issue has not landed yet: an interface target keeps the wiring visible.
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR})
  endif()
  add_library(hwnas::${M_NAME} ALIAS ${target})
  set(HWNAS_MODULES ${HWNAS_MODULES} ${M_NAME} CACHE INTERNAL "")
  set(HWNAS_DEPS_${M_NAME} ${M_DEPENDS} CACHE INTERNAL "")
  set(HWNAS_FORBID_${M_NAME} ${M_FORBID_HEADERS} CACHE INTERNAL "")
endfunction()

# hwnas_test(NAME <name> SOURCES ... LIBS ... [LABELS ...])
# LOCK: a resource the tests hold alone (ctest -j runs no two tests of one lock at once).
function(hwnas_test)
  cmake_parse_arguments(T "" "NAME;LOCK" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT HWNAS_TESTS)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main hwnas_warnings)
  set(lock "")
  if(T_LOCK)
    set(lock RESOURCE_LOCK ${T_LOCK})
  endif()
  # An empty LABELS would take the next word as its value (the properties are name/value pairs).
  set(labels "")
  if(T_LABELS)
    set(labels LABELS "${T_LABELS}")
  endif()
  # TEST_TMPDIR: gtest's TempDir(), where tests/scratch.h puts each test process's files (in the
  # build tree, so a crashed test's files never pile up in /tmp).
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60
                       PROPERTIES ${labels} ENVIRONMENT "HWNAS_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
                                  ENVIRONMENT_MODIFICATION "TEST_TMPDIR=set:${CMAKE_BINARY_DIR}/test-tmp" ${lock})
endfunction()

# Checks every module's sources for includes DESIGN.md does not allow; runs on every build.
function(hwnas_check_module_includes)
  set(args "")
  foreach(m IN LISTS HWNAS_MODULES)
    string(REPLACE ";" "," deps "${HWNAS_DEPS_${m}}")
    string(REPLACE ";" "|" forbid "${HWNAS_FORBID_${m}}")
    list(APPEND args "-DMODULE_${m}=${deps}" "-DFORBID_${m}=${forbid}")
  endforeach()
  string(REPLACE ";" "," modules "${HWNAS_MODULES}")
  add_custom_target(check_module_includes ALL
    COMMAND ${CMAKE_COMMAND} -DROOT=${PROJECT_SOURCE_DIR} -DMODULES=${modules} ${args}
            -P ${PROJECT_SOURCE_DIR}/cmake/check_module_includes.cmake
    COMMENT "Checking module include boundaries (DESIGN.md)" VERBATIM)
  if(HWNAS_TESTS)
    add_test(NAME module_include_boundaries
             COMMAND ${CMAKE_COMMAND} -DROOT=${PROJECT_SOURCE_DIR} -DMODULES=${modules} ${args}
                     -P ${PROJECT_SOURCE_DIR}/cmake/check_module_includes.cmake)
  endif()
endfunction()
