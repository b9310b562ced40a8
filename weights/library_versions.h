// Versions of the libraries this module links (ONNX, protobuf, libjpeg-turbo, libpng), for
// `hwnas --version`: {name, version} pairs.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hwnas::weights {

std::vector<std::pair<std::string, std::string>> library_versions();

}  // namespace hwnas::weights
