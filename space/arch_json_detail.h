// Internal: the arch JSON readers, shared with the search-space parser. They throw
// detail::SpecError; public entry points are in arch_json.h.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "space/arch.h"

namespace hwnas::space::detail {

Patch read_patch(const nlohmann::json& j, const std::string& path);
Mixer read_mixer(const nlohmann::json& j, const std::string& path);
Input read_input(const nlohmann::json& j, const std::string& path);
Head read_head(const nlohmann::json& j, const std::string& path);
FfnKind read_ffn_kind(const nlohmann::json& j, const std::string& path);

}  // namespace hwnas::space::detail
