// Strict JSON object reading with JSON paths in every error: unknown keys (with "did you mean"),
// wrong types and out-of-range values are reported as "<path>: <rule>".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "space/result.h"
#include "space/suggest.h"

namespace hwnas::space::detail {

std::string json_type_name(const nlohmann::json& j);
std::string join_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, std::size_t i);
using space::did_you_mean;

// Parses JSON text; a syntax error becomes "<source>:<line>:<col>: invalid JSON: <reason>".
Result<nlohmann::json> parse_json_text(std::string_view text, const std::string& source);
Result<std::string> read_text_file(const std::string& path);

class ObjectReader {
 public:
  // Throws SpecError unless `j` is an object.
  ObjectReader(const nlohmann::json& j, std::string path);

  bool has(std::string_view key);
  const nlohmann::json* get(std::string_view key);  // marks the key used; nullptr if absent
  std::string path(std::string_view key) const { return join_path(path_, key); }
  const std::string& path() const { return path_; }

  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi);
  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::int64_t fallback);
  double number(std::string_view key, double lo, double hi);
  double number(std::string_view key, double lo, double hi, double fallback);
  bool boolean(std::string_view key, bool fallback);
  std::string string(std::string_view key);
  std::string string(std::string_view key, std::string fallback);
  const nlohmann::json& object(std::string_view key);
  const nlohmann::json& array(std::string_view key);
  const nlohmann::json& any(std::string_view key) { return required(key); }

  // Every key not read so far is an error (call last).
  void finish() const;

 private:
  const nlohmann::json& required(std::string_view key);
  const nlohmann::json& j_;
  std::string path_;
  std::set<std::string, std::less<>> used_;
  std::set<std::string, std::less<>> asked_;
};

std::int64_t as_integer(const nlohmann::json& v, const std::string& path, std::int64_t lo, std::int64_t hi);
double as_number(const nlohmann::json& v, const std::string& path, double lo, double hi);

}  // namespace hwnas::space::detail
