#include "profilers/mpi/devices.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fnmatch.h>
#include <nlohmann/json.hpp>
#include <sched.h>

#include "profilers/backends.h"

namespace hwnas::prof::mpi {
namespace {

using nlohmann::json;

std::string substituted(std::string s, int rank, int local_rank) {
  for (const auto& [from, to] : {std::pair<std::string, int>{"{rank}", rank}, {"{local_rank}", local_rank}})
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at))
      s.replace(at, from.size(), std::to_string(to));
  return s;
}

Result<int> non_negative_int(const json& v, const std::string& where) {
  if (!v.is_number_integer()) return Error{fmt::format("{}: must be an integer (got {})", where, v.dump())};
  const auto n = v.get<long long>();
  if (n < 0 || n > 1 << 20) return Error{fmt::format("{}: must be in [0, 1048576] (got {})", where, n)};
  return static_cast<int>(n);
}

Result<std::string> string_of(const json& v, const std::string& where) {
  if (!v.is_string() || v.get<std::string>().empty())
    return Error{fmt::format("{}: must be a non-empty string (got {})", where, v.dump())};
  return v.get<std::string>();
}

}  // namespace

Result<std::vector<int>> parse_cpu_list(const std::string& text) {
  std::set<int> cpus;
  std::stringstream in(text);
  std::string part;
  auto bad = [&](const std::string& why) {
    return Error{fmt::format("'{}': {} (a CPU list is like 0-3,8)", text, why)};
  };
  auto number = [](const std::string& s, int& out) {
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    out = std::stoi(s);
    return true;
  };
  while (std::getline(in, part, ',')) {
    const auto dash = part.find('-');
    int lo = 0, hi = 0;
    if (dash == std::string::npos) {
      if (!number(part, lo)) return bad(fmt::format("'{}' is not a CPU number", part));
      hi = lo;
    } else if (!number(part.substr(0, dash), lo) || !number(part.substr(dash + 1), hi) || hi < lo) {
      return bad(fmt::format("'{}' is not a range lo-hi with lo <= hi", part));
    }
    if (hi >= CPU_SETSIZE) return bad(fmt::format("CPU {} is past the largest, {}", hi, CPU_SETSIZE - 1));
    for (int c = lo; c <= hi; ++c) cpus.insert(c);
  }
  if (cpus.empty()) return bad("no CPU named");
  return std::vector<int>(cpus.begin(), cpus.end());
}

Result<DeviceMap> parse_device_map(const std::string& text, const std::string& file) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error{fmt::format("{}: not valid JSON", file)};
  if (!j.is_object() || !j.contains("ranks") || !j["ranks"].is_array())
    return Error{fmt::format("{}: ranks: must be an array of rules (the file is {{\"ranks\": [...]}})", file)};
  for (const auto& [k, v] : j.items())
    if (k != "ranks") return Error{fmt::format("{}: {}: unknown field (only ranks)", file, k)};
  DeviceMap map;
  map.file = file;
  for (std::size_t i = 0; i < j["ranks"].size(); ++i) {
    const json& r = j["ranks"][i];
    const std::string at = fmt::format("{}: ranks[{}]", file, i);
    if (!r.is_object()) return Error{fmt::format("{}: must be an object", at)};
    DeviceRule rule;
    for (const auto& [k, v] : r.items()) {
      const std::string where = at + "." + k;
      if (k == "rank") {
        const json list = v.is_array() ? v : json::array({v});
        if (list.empty()) return Error{fmt::format("{}: must name at least one rank", where)};
        for (const json& n : list) {
          auto rank = non_negative_int(n, where);
          if (!rank) return rank.error();
          rule.ranks.push_back(*rank);
        }
        continue;
      }
      if (k == "threads") {
        auto n = non_negative_int(v, where);
        if (!n) return n.error();
        rule.threads = *n;
        continue;
      }
      std::string* field = k == "host"      ? &rule.host
                           : k == "device"  ? &rule.device
                           : k == "backend" ? &rule.backend
                           : k == "cores"   ? &rule.cores
                           : k == "name"    ? &rule.name
                                            : nullptr;
      if (field == nullptr)
        return Error{fmt::format(
            "{}: unknown field (a rule matches rank, host and sets device, backend, threads, cores, name)", where)};
      auto value = string_of(v, where);
      if (!value) return value.error();
      // Checked with the substitutions made (rank 0's), as a rank will see them.
      const std::string with_ranks = substituted(*value, 0, 0);
      if (k == "device")
        if (auto d = parse_device(with_ranks); !d)
          return Error{fmt::format("{}: must be cpu, cuda or cuda:N, {{local_rank}} and {{rank}} allowed (got '{}')",
                                   where, *value)};
      if (k == "name" && value->find_first_of(",= \t") != std::string::npos)
        return Error{fmt::format("{}: must be a name without ',', '=' or blanks (got '{}')", where, *value)};
      if (k == "backend" && *value != "onednn" && *value != "fake")
        return Error{fmt::format("{}: must be onednn or fake (got '{}')", where, *value)};
      if (k == "cores")
        if (auto cpus = parse_cpu_list(with_ranks); !cpus)
          return Error{fmt::format("{}: {}", where, cpus.error().message)};
      *field = std::move(*value);
    }
    if (rule.device.empty() && rule.backend.empty() && !rule.threads && rule.cores.empty() && rule.name.empty())
      return Error{fmt::format("{}: sets nothing (give device, backend, threads, cores or name)", at)};
    map.rules.push_back(std::move(rule));
  }
  return map;
}

Result<DeviceMap> load_device_map(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{fmt::format("{}: cannot read ({})", path, std::strerror(errno))};
  std::stringstream text;
  text << in.rdbuf();
  return parse_device_map(text.str(), path);
}

Result<std::optional<DeviceAssignment>> assign_device(const DeviceMap& map, int rank, int local_rank,
                                                      const std::string& host) {
  for (std::size_t i = 0; i < map.rules.size(); ++i) {
    const DeviceRule& r = map.rules[i];
    if (!r.ranks.empty() && std::find(r.ranks.begin(), r.ranks.end(), rank) == r.ranks.end()) continue;
    if (!r.host.empty() && fnmatch(r.host.c_str(), host.c_str(), 0) != 0) continue;
    DeviceAssignment a;
    a.rule = i;
    a.device = substituted(r.device, rank, local_rank);
    a.backend = r.backend;
    a.name = substituted(r.name, rank, local_rank);
    a.threads = r.threads;
    if (!r.cores.empty()) {
      auto cpus = parse_cpu_list(substituted(r.cores, rank, local_rank));
      if (!cpus)
        return Error{fmt::format("{}: ranks[{}].cores for rank {}: {}", map.file, i, rank, cpus.error().message)};
      a.cores = std::move(*cpus);
    }
    return std::optional<DeviceAssignment>(std::move(a));
  }
  return std::optional<DeviceAssignment>();
}

Result<std::size_t> pin_to_cores(const std::vector<int>& cores) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cores) CPU_SET(c, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0)
    return Error{fmt::format("cannot pin to CPUs {}: {}", fmt::join(cores, ","), std::strerror(errno))};
  return cores.size();
}

}  // namespace hwnas::prof::mpi
