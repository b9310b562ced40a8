#include "space/json_reader.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "space/spec_error.h"

namespace hwnas::space::detail {

std::string json_type_name(const nlohmann::json& j) {
  if (j.is_number_integer() || j.is_number_unsigned()) return "integer";
  if (j.is_number_float()) return "number";
  return j.type_name();
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t i) {
  return fmt::format("{}[{}]", parent, i);
}

Result<nlohmann::json> parse_json_text(std::string_view text, const std::string& source) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // Byte offset → line:column, and drop nlohmann's "[json.exception...]" prefix.
    std::size_t line = 1, col = 1;
    const std::size_t end = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    for (std::size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string why = e.what();
    if (auto p = why.find("] "); p != std::string::npos) why = why.substr(p + 2);
    if (auto p = why.find(": "); why.rfind("parse error", 0) == 0 && p != std::string::npos) why = why.substr(p + 2);
    return Error{fmt::format("{}:{}:{}: invalid JSON: {}", source, line, col, why)};
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range 406: a number literal too large for a double (found by the fuzzer).
    std::string why = e.what();
    if (auto p = why.find("] "); p != std::string::npos) why = why.substr(p + 2);
    return Error{fmt::format("{}: invalid JSON: {}", source, why)};
  }
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open file", path)};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{fmt::format("{}: read error", path)};
  return ss.str();
}

ObjectReader::ObjectReader(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
  if (!j.is_object())
    throw SpecError(path_.empty() ? "(top level)" : path_,
                    fmt::format("must be an object (got {})", json_type_name(j)));
}

bool ObjectReader::has(std::string_view key) {
  asked_.insert(std::string(key));
  return j_.find(key) != j_.end();
}

const nlohmann::json* ObjectReader::get(std::string_view key) {
  asked_.insert(std::string(key));
  auto it = j_.find(key);
  if (it == j_.end()) return nullptr;
  used_.insert(std::string(key));
  return &*it;
}

const nlohmann::json& ObjectReader::required(std::string_view key) {
  const nlohmann::json* v = get(key);
  if (v == nullptr) {
    // A key that is a typo of the missing one is the likelier mistake: name it.
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (used_.count(it.key()) == 0 && !did_you_mean(it.key(), {std::string(key)}).empty())
        throw SpecError(path(it.key()), fmt::format("unknown key (did you mean '{}'?)", key));
    }
    throw SpecError(path(key), "is required");
  }
  return *v;
}

std::int64_t as_integer(const nlohmann::json& v, const std::string& path, std::int64_t lo, std::int64_t hi) {
  std::int64_t x = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi))
      throw SpecError(path, fmt::format("must be in [{}, {}] (got {})", lo, hi, u));
    x = static_cast<std::int64_t>(u);
  } else if (v.is_number_integer()) {
    x = v.get<std::int64_t>();
  } else {
    throw SpecError(path, fmt::format("must be an integer (got {})", json_type_name(v)));
  }
  if (x < lo || x > hi) throw SpecError(path, fmt::format("must be in [{}, {}] (got {})", lo, hi, x));
  return x;
}

double as_number(const nlohmann::json& v, const std::string& path, double lo, double hi) {
  if (!v.is_number()) throw SpecError(path, fmt::format("must be a number (got {})", json_type_name(v)));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw SpecError(path, fmt::format("must be in [{}, {}] (got {})", lo, hi, x));
  return x;
}

std::int64_t ObjectReader::integer(std::string_view key, std::int64_t lo, std::int64_t hi) {
  return as_integer(required(key), path(key), lo, hi);
}
std::int64_t ObjectReader::integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::int64_t fallback) {
  const nlohmann::json* v = get(key);
  return v == nullptr ? fallback : as_integer(*v, path(key), lo, hi);
}
double ObjectReader::number(std::string_view key, double lo, double hi) {
  return as_number(required(key), path(key), lo, hi);
}
double ObjectReader::number(std::string_view key, double lo, double hi, double fallback) {
  const nlohmann::json* v = get(key);
  return v == nullptr ? fallback : as_number(*v, path(key), lo, hi);
}
bool ObjectReader::boolean(std::string_view key, bool fallback) {
  const nlohmann::json* v = get(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) throw SpecError(path(key), fmt::format("must be true or false (got {})", json_type_name(*v)));
  return v->get<bool>();
}
std::string ObjectReader::string(std::string_view key) {
  const nlohmann::json& v = required(key);
  if (!v.is_string()) throw SpecError(path(key), fmt::format("must be a string (got {})", json_type_name(v)));
  return v.get<std::string>();
}
std::string ObjectReader::string(std::string_view key, std::string fallback) {
  if (!has(key)) return fallback;
  return string(key);
}
const nlohmann::json& ObjectReader::object(std::string_view key) {
  const nlohmann::json& v = required(key);
  if (!v.is_object()) throw SpecError(path(key), fmt::format("must be an object (got {})", json_type_name(v)));
  return v;
}
const nlohmann::json& ObjectReader::array(std::string_view key) {
  const nlohmann::json& v = required(key);
  if (!v.is_array()) throw SpecError(path(key), fmt::format("must be an array (got {})", json_type_name(v)));
  return v;
}

void ObjectReader::finish() const {
  std::vector<std::string> known(asked_.begin(), asked_.end());
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (used_.count(it.key()) != 0) continue;
    // Suggest among the keys this reader asked for (optional ones included).
    std::string hint = did_you_mean(it.key(), known);
    throw SpecError(path(it.key()),
                    hint.empty() ? "unknown key" : fmt::format("unknown key (did you mean '{}'?)", hint));
  }
}

}  // namespace hwnas::space::detail
