// Internal: a spec error thrown inside the parser/validator/lowering and turned into an Error
// ("<file>: <json path>: <rule>") at the public boundary. Never escapes space/.
#pragma once

#include <stdexcept>
#include <string>

namespace hwnas::space::detail {

struct SpecError : std::runtime_error {
  SpecError(const std::string& json_path, const std::string& rule)
      : std::runtime_error(json_path.empty() ? rule : json_path + ": " + rule) {}
};

}  // namespace hwnas::space::detail
