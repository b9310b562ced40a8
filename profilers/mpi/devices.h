// Which device each rank of an MPI job measures on: the `--mpi-devices FILE` map (space/FORMAT.md,
// "MPI device map"). Every rank gets the same command line; the map rewrites its device options by
// rank, host and local rank, e.g. one rank per GPU on a GPU host (`cuda:{local_rank}`), a CPU rank
// with pinned cores elsewhere. Plain C++ (no MPI): parsed and matched the same way with or without it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "space/result.h"

namespace hwnas::prof::mpi {

struct DeviceRule {
  // What it matches (all given ones must): world ranks, a host name glob (fnmatch).
  std::vector<int> ranks;  // empty: any
  std::string host;        // empty: any
  // What it sets; "{rank}" and "{local_rank}" in device and cores are replaced by the rank's own.
  std::string device;   // cpu | cuda | cuda:N
  std::string backend;  // onednn | fake
  std::optional<int> threads;
  std::string cores;  // a CPU list such as "0-3,8": the rank is pinned to these before its backend starts
  // What `search --device NAME` calls the device of the ranks it matches ("{rank}"/"{local_rank}"
  // substituted); a name for the ranks of one device fingerprint, where "cpu" would name several.
  std::string name;
};

struct DeviceMap {
  std::string file;
  std::vector<DeviceRule> rules;
};

// Parses the map's JSON text; errors name the file, the JSON path and the rule.
Result<DeviceMap> parse_device_map(const std::string& text, const std::string& file);
Result<DeviceMap> load_device_map(const std::string& path);

// What the first matching rule sets for this rank (substituted; cores as CPU numbers), or nothing
// when no rule matches.
struct DeviceAssignment {
  std::size_t rule = 0;
  std::string device, backend, name;
  std::optional<int> threads;
  std::vector<int> cores;
};
Result<std::optional<DeviceAssignment>> assign_device(const DeviceMap& map, int rank, int local_rank,
                                                      const std::string& host);

// "0-3,8" -> {0, 1, 2, 3, 8}; sorted, distinct; an error names the rule.
Result<std::vector<int>> parse_cpu_list(const std::string& text);
// Pins this process (and the threads it starts later) to `cores` (sched_setaffinity); how many.
Result<std::size_t> pin_to_cores(const std::vector<int>& cores);

}  // namespace hwnas::prof::mpi
