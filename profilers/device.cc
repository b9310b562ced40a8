#include "profilers/device.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <omp.h>

#include "space/canonical.h"

namespace hwnas::prof {

std::string DeviceInfo::fingerprint() const {
  return space::hash_hex(space::hash64(fmt::format("{}|{}|{}|{}|{}|{}", kind, model, cores, threads, isa, engine)));
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      if (p != std::string::npos) {
        std::string m = line.substr(p + 1);
        while (!m.empty() && m.front() == ' ') m.erase(m.begin());
        return m;
      }
    }
  }
  return "unknown";
}

int available_cpus() {
  // libgomp binds the main thread in its own constructor when OMP_PROC_BIND is set, so this
  // thread's affinity may already be one core; omp_get_num_procs() reports the set it started from.
  return std::max(1, omp_get_num_procs());
}

LoadSnapshot load_snapshot(const LoadSnapshot* previous) {
  LoadSnapshot s;
  {
    std::ifstream in("/proc/loadavg");
    in >> s.loadavg_1m;
  }
  std::ifstream in("/proc/stat");
  std::string cpu;
  std::uint64_t v[10] = {};
  in >> cpu;
  for (auto& x : v) in >> x;
  for (auto x : v) s.total_ticks += x;
  s.steal_ticks = v[7];
  if (previous != nullptr && s.total_ticks > previous->total_ticks) {
    s.steal_fraction = static_cast<double>(s.steal_ticks - previous->steal_ticks) /
                       static_cast<double>(s.total_ticks - previous->total_ticks);
  }
  return s;
}

}  // namespace hwnas::prof
