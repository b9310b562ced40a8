// Internal: a spec error thrown inside the parser/validator/lowering and turned into an Error
// ("<file>: <json path>: <rule>") at the public boundary. Never escapes space/.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace hwnas::space::detail {

struct SpecError : std::runtime_error {
  SpecError(const std::string& json_path, const std::string& rule)
      : std::runtime_error(json_path.empty() ? rule : json_path + ": " + rule) {}
};

// A JSON path formatted only when an error names it (validation and lowering run in the search
// loop, where building every path string cost more than the checks): "stem",
// "stages[2].downsample", "stages[1].blocks[3].mixer"; path(".size") appends a field. It holds views:
// build it in the expression that uses it, or from literals.
class JsonPath {
 public:
  JsonPath(const char* whole) : part_(whole) {}         // NOLINT(google-explicit-constructor)
  JsonPath(const std::string& whole) : part_(whole) {}  // NOLINT(google-explicit-constructor)
  JsonPath(int stage, std::string_view part) : stage_(stage), part_(part) {}
  JsonPath(int stage, int block, std::string_view part) : stage_(stage), block_(block), part_(part) {}

  std::string operator()(std::string_view field = {}) const {
    if (stage_ < 0) return fmt::format("{}{}", part_, field);
    const std::string_view dot = part_.empty() ? "" : ".";
    if (block_ < 0) return fmt::format("stages[{}]{}{}{}", stage_, dot, part_, field);
    return fmt::format("stages[{}].blocks[{}]{}{}{}", stage_, block_, dot, part_, field);
  }

 private:
  int stage_ = -1;  // -1: `part_` is the whole path
  int block_ = -1;  // -1: a path inside the stage
  std::string_view part_;
};

}  // namespace hwnas::space::detail
