// Architecture JSON: parse + validate into an Arch, and write an Arch back. The format is documented
// in space/FORMAT.md. Errors: "<source>: <json path>: <rule>".
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "space/arch.h"
#include "space/result.h"

namespace hwnas::space {

Result<Arch> arch_from_json(const nlohmann::json& j, const std::string& source);
Result<Arch> parse_arch(std::string_view text, const std::string& source);
Result<Arch> load_arch_file(const std::string& path);

// Every field written explicitly, blocks expanded; `with_meta` adds the "meta" object.
nlohmann::json arch_to_json(const Arch& arch, bool with_meta = true);

}  // namespace hwnas::space
