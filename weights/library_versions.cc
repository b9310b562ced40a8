#include "weights/library_versions.h"

#include <cstdio>

#include <fmt/format.h>
#include <google/protobuf/stubs/common.h>
// clang-format off
#include <jpeglib.h>  // needs <cstdio> first
// clang-format on
#include <png.h>

namespace hwnas::weights {

std::vector<std::pair<std::string, std::string>> library_versions() {
  const int pb = GOOGLE_PROTOBUF_VERSION;
  return {
      {"ONNX", HWNAS_ONNX_VERSION},
      {"protobuf", fmt::format("{}.{}.{}", pb / 1000000, pb / 1000 % 1000, pb % 1000)},
      {"libjpeg-turbo",
       fmt::format("{}.{}.{} (libjpeg API {})", LIBJPEG_TURBO_VERSION_NUMBER / 1000000,
                   LIBJPEG_TURBO_VERSION_NUMBER / 1000 % 1000, LIBJPEG_TURBO_VERSION_NUMBER % 1000, JPEG_LIB_VERSION)},
      {"libpng", png_get_libpng_ver(nullptr)},
  };
}

}  // namespace hwnas::weights
