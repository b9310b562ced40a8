// Device fingerprint and measured limits. Peaks are measured, never computed from nominal clocks
// (MEASURE.md: the base clock under-predicts and machines of one kind differ by 2x).
#pragma once

#include <cstdint>
#include <string>

namespace hwnas::prof {

struct DeviceInfo {
  std::string kind = "cpu";  // "cpu" or "cuda"
  std::string model;         // "AMD EPYC 9R45 ..." or the GPU name
  int cores = 0;             // logical CPUs available to this process
  int threads = 0;           // threads the backend runs with
  std::string isa;           // as the engine sees it ("avx512_core_bf16")
  bool bf16_native = false;
  std::string engine;  // "oneDNN 2.6.3 (...)"
  // Measured at start-up (0 until measured; bf16 0 where unsupported).
  double peak_f32_gflops = 0;
  double peak_bf16_gflops = 0;
  double triad_gbs = 0;

  // Stable key for the store: hash of kind, model, cores, threads, ISA and engine version.
  std::string fingerprint() const;
};

// CPU model from /proc/cpuinfo ("unknown" elsewhere).
std::string cpu_model_name();
// Logical CPUs this process may run on (sched_getaffinity).
int available_cpus();

// Machine load around a measurement batch (MEASURE.md step 7).
struct LoadSnapshot {
  double loadavg_1m = 0;
  double steal_fraction = 0;  // steal time / total since the previous snapshot (0 on the first)
  std::uint64_t steal_ticks = 0, total_ticks = 0;
};
LoadSnapshot load_snapshot(const LoadSnapshot* previous = nullptr);

}  // namespace hwnas::prof
