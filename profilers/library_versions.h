// Versions of the engines this module links, for `hwnas --version` and device fingerprints.
#pragma once

#include <string>

namespace hwnas::prof {

std::string onednn_version();  // "2.6.3 (commit ...)"

}  // namespace hwnas::prof
