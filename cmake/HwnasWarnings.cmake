# Compiler warnings and sanitizers, applied to hwnas's own targets only.
add_library(hwnas_warnings INTERFACE)
target_compile_options(hwnas_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wimplicit-fallthrough
  -Wno-sign-conversion)
if(HWNAS_WERROR)
  target_compile_options(hwnas_warnings INTERFACE -Werror)
endif()
if(HWNAS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
