// The backend interface: a backend lowers an Arch (or one unit of it) to a Runnable; the one timing
// loop (timing.h) times any Runnable. Backends translate space/'s ops; they never define shapes or
// counts of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "profilers/device.h"
#include "profilers/timing.h"
#include "profilers/weight_source.h"
#include "space/arch.h"
#include "space/ops.h"
#include "space/result.h"

namespace hwnas::prof {

enum class DType : std::uint8_t { f32, bf16, f16 };
std::string_view name_of(DType t);
std::optional<DType> dtype_from(std::string_view s);

struct RunConfig {
  std::int64_t batch = 1;
  DType dtype = DType::f32;
  int threads = 0;         // 0 = the backend's default (all cores)
  std::int64_t chunk = 0;  // images run through the network at a time (divides batch); 0 = the backend picks
};

// What one Runnable covers: the whole network, or one unit (stem, downsample, block, head) of the
// lowered network fed with an input of its real shape.
struct Subject {
  int unit = -1;  // -1 = the whole network
  static Subject network() { return {}; }
  static Subject of_unit(int u) { return {u}; }
};

// The units a Subject covers in a lowered network, and the shapes of what goes in and comes out:
// the same for every backend.
struct UnitSpan {
  int first = 0, last = 0;
  std::vector<std::int64_t> input_shape;   // [batch, C, H, W] (the image) or [batch, T, C] (tokens)
  std::vector<std::int64_t> output_shape;  // [batch, classes] after the head, else [batch, T, C]
};
Result<UnitSpan> unit_span(const space::Arch& arch, const space::Lowered& net, Subject subject, std::int64_t batch);

class Runnable {
 public:
  virtual ~Runnable() = default;
  // One forward pass on the prepared input. Must be callable repeatedly.
  virtual void run() = 0;
  // The engine's own steps (a primitive or own kernel each; fused ops are one step), in order.
  virtual std::vector<std::string> steps() const = 0;
  // Runs step i alone (inputs as the last run() left them): for per-op timing.
  virtual void run_step(std::size_t i) = 0;
  // Unit index (into the lowered network) of each step, for nesting in traces and tables.
  virtual std::vector<int> step_units() const = 0;
  // fp32 views for correctness tests: the input to write before run(), the output after it.
  virtual void set_input(std::span<const float> values) = 0;
  virtual std::vector<float> output() const = 0;
  virtual std::vector<std::int64_t> input_shape() const = 0;
  virtual std::vector<std::int64_t> output_shape() const = 0;
  // Images per pass: the batch runs as batch/chunk passes of `chunk` images (CPU: keeps activations
  // in L2; measured 7% faster on deit-tiny b8 with chunks of 2).
  virtual std::int64_t chunk() const { return input_shape().empty() ? 1 : input_shape()[0]; }
  // Time spent creating primitives / compiling kernels (kept out of latency, reported apart).
  virtual double creation_ms() const = 0;
  // Implementation names the engine chose (oneDNN impl_info_str), one per step.
  virtual std::vector<std::string> implementations() const = 0;
  // A second way to launch the same pass where the backend has one (CUDA graphs); else empty.
  virtual std::function<void()> graph_launch() { return {}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual const DeviceInfo& device() const = 0;
  // Empty when supported, else the reason ("bf16 needs AVX512_BF16; this CPU has avx2").
  virtual std::string unsupported(const space::Arch& arch, const RunConfig& cfg) const = 0;
  virtual Result<std::unique_ptr<Runnable>> prepare(const space::Arch& arch, Subject subject, const RunConfig& cfg,
                                                    const WeightSource& weights) = 0;
  // The clock the timing loop reads (the fake backend's is virtual and deterministic; the CUDA
  // backend's waits for the device first, so that host spans cover the device work).
  virtual Clock clock() const { return steady_clock_us(); }
  // Times `call` with the one timing loop; the CUDA backend times on the device (events).
  virtual Measurement time(const std::function<void()>& call, const TimingConfig& cfg) {
    return time_it(call, cfg, clock());
  }
  // Device state worth logging around a measurement batch (GPU clocks, temperature); "" if none.
  virtual std::string device_state() const { return ""; }
  // Fills device() peaks (GEMM fp32/bf16, bandwidth); a no-op where they are known.
  virtual void measure_peaks() {}
  // A short fixed workload (µs) for the noise gate's drift check; 0 if the backend has none.
  virtual double calibration_us() { return 0; }
};

}  // namespace hwnas::prof
