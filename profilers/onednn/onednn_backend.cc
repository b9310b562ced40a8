#include "profilers/onednn/onednn_backend.h"

#include <chrono>
#include <cstring>
#include <vector>

#include <dnnl.hpp>
#include <fmt/format.h>
#include <omp.h>
#include <unistd.h>

#include "profilers/library_versions.h"
#include "profilers/onednn/bf16.h"
#include "profilers/onednn/lowerer.h"
#include "profilers/timing.h"
#include "space/count.h"
#include "space/rng.h"

namespace hwnas::prof {
namespace {

using dnnl::memory;
using onednn::bf16_to_f32;
using onednn::f32_to_bf16;
using onednn::Plan;
using onednn::Tok;
using onednn::View;

std::string isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::all: return "all";
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
  }
  return "unknown";
}

class OnednnRunnable final : public Runnable {
 public:
  OnednnRunnable(std::unique_ptr<Plan> plan, View input, View output, std::vector<std::int64_t> in_shape,
                 std::vector<std::int64_t> out_shape, std::int64_t chunks)
      : plan_(std::move(plan)),
        input_(std::move(input)),
        output_(std::move(output)),
        in_shape_(std::move(in_shape)),
        out_shape_(std::move(out_shape)),
        chunks_(chunks) {
    if (chunks_ > 1) {
      full_in_.resize(bytes(input_) * static_cast<std::size_t>(chunks_));
      full_out_.resize(bytes(output_) * static_cast<std::size_t>(chunks_));
    }
  }

  void run() override {
    if (chunks_ == 1) {
      plan_->run();
      return;
    }
    const std::size_t in_b = bytes(input_), out_b = bytes(output_);
    for (std::int64_t c = 0; c < chunks_; ++c) {
      std::memcpy(input_.ptr(), full_in_.data() + static_cast<std::size_t>(c) * in_b, in_b);
      plan_->run();
      std::memcpy(full_out_.data() + static_cast<std::size_t>(c) * out_b, output_.ptr(), out_b);
    }
  }
  std::vector<std::string> steps() const override {
    std::vector<std::string> v;
    for (const auto& s : plan_->steps()) v.push_back(s.name);
    return v;
  }
  void run_step(std::size_t i) override {
    for (std::int64_t c = 0; c < chunks_; ++c) plan_->run_step(i);  // the step's cost for the whole batch
    plan_->stream().wait();
  }
  std::vector<int> step_units() const override {
    std::vector<int> v;
    for (const auto& s : plan_->steps()) v.push_back(s.unit);
    return v;
  }
  std::vector<std::string> implementations() const override {
    std::vector<std::string> v;
    for (const auto& s : plan_->steps()) v.push_back(s.impl);
    return v;
  }
  void set_input(std::span<const float> values) override {
    if (chunks_ == 1) {
      write(input_.type, input_.ptr(), count(input_), values);
    } else {
      write(input_.type, full_in_.data(), count(input_) * static_cast<std::size_t>(chunks_), values);
    }
  }
  std::vector<float> output() const override {
    if (chunks_ == 1) return read(output_.type, output_.ptr(), count(output_));
    return read(output_.type, full_out_.data(), count(output_) * static_cast<std::size_t>(chunks_));
  }
  std::vector<std::int64_t> input_shape() const override { return in_shape_; }
  std::vector<std::int64_t> output_shape() const override { return out_shape_; }
  std::int64_t chunk() const override { return in_shape_[0] / chunks_; }
  double creation_ms() const override { return plan_->creation_ms; }

 private:
  // Views here are always dense.
  static std::size_t count(const View& v) {
    std::size_t n = 1;
    for (auto d : v.shape) n *= static_cast<std::size_t>(d);
    return n;
  }
  static std::size_t bytes(const View& v) { return count(v) * v.element_bytes(); }
  static void write(memory::data_type t, void* dst, std::size_t n_max, std::span<const float> values) {
    const std::size_t n = std::min(n_max, values.size());
    if (t == memory::data_type::f32) {
      std::memcpy(dst, values.data(), n * 4);
    } else {
      auto* p = static_cast<std::uint16_t*>(dst);
      for (std::size_t i = 0; i < n; ++i) p[i] = f32_to_bf16(values[i]);
    }
  }
  static std::vector<float> read(memory::data_type t, const void* src, std::size_t n) {
    std::vector<float> out(n);
    if (t == memory::data_type::f32) {
      std::memcpy(out.data(), src, n * 4);
    } else {
      const auto* p = static_cast<const std::uint16_t*>(src);
      for (std::size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(p[i]);
    }
    return out;
  }

  std::unique_ptr<Plan> plan_;
  View input_, output_;
  std::vector<std::int64_t> in_shape_, out_shape_;
  std::int64_t chunks_;
  std::vector<std::byte> full_in_, full_out_;
};

// The largest divisor of the batch whose biggest activation (per image × chunk) stays within
// ~1.5 MB, so that consecutive steps find their inputs in L2 (measured on deit-tiny b8: chunks of 2
// 107.6 ms, one pass of 8 115-123 ms).
std::int64_t auto_chunk(const space::Lowered& net, int first, int last, std::int64_t batch, DType dtype) {
  std::int64_t largest = 1;
  for (int u = first; u <= last; ++u)
    for (const auto& op : net.units[static_cast<std::size_t>(u)].ops) largest = std::max(largest, op.out_bytes);
  if (dtype == DType::bf16) largest /= 2;
  constexpr std::int64_t kBudget = 1536 * 1024;
  std::int64_t best = 1;
  for (std::int64_t c = 1; c <= batch; ++c)
    if (batch % c == 0 && c * largest <= kBudget) best = c;
  return best;
}

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  space::Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  return v;
}

}  // namespace

bool cpu_has_avx512_bf16() {
  return __builtin_cpu_supports("avx512bf16") != 0;
}

OnednnBackend::OnednnBackend(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
  device_.kind = "cpu";
  device_.model = cpu_model_name();
  device_.cores = available_cpus();
  device_.threads = threads > 0 ? threads : omp_get_max_threads();
  device_.isa = isa_name(dnnl::get_effective_cpu_isa());
  device_.bf16_native = cpu_has_avx512_bf16();
  device_.engine = "oneDNN " + onednn_version();
}

std::string OnednnBackend::unsupported(const space::Arch& arch, const RunConfig& cfg) const {
  if (cfg.dtype == DType::f16) return "f16 runs on the CUDA backend only (--device cuda:N); the CPU runs f32 or bf16";
  if (cfg.dtype == DType::bf16 && !device_.bf16_native)
    return fmt::format("bf16 needs native AVX512_BF16; this CPU ({}) runs oneDNN at ISA {}", device_.model,
                       device_.isa);
  if (cfg.batch < 1) return fmt::format("batch must be >= 1 (got {})", cfg.batch);
  auto net = space::lower(arch);
  if (!net) return net.error().message;
  return "";
}

Result<std::unique_ptr<Runnable>> OnednnBackend::prepare(const space::Arch& arch, Subject subject, const RunConfig& cfg,
                                                         const WeightSource& weights) {
  if (auto why = unsupported(arch, cfg); !why.empty()) return Error{why};
  auto lowered = space::lower(arch);
  if (!lowered) return lowered.error();
  const space::Lowered& net = *lowered;
  auto span = unit_span(arch, net, subject, cfg.batch);
  if (!span) return span.error();
  if (cfg.threads > 0) omp_set_num_threads(cfg.threads);
  const auto t0 = std::chrono::steady_clock::now();
  const auto act = cfg.dtype == DType::f32 ? memory::data_type::f32 : memory::data_type::bf16;
  const int first = span->first, last = span->last;
  const std::int64_t chunk = cfg.chunk > 0 ? cfg.chunk : auto_chunk(net, first, last, cfg.batch, cfg.dtype);
  if (cfg.batch % chunk != 0) return Error{fmt::format("chunk {} does not divide batch {}", chunk, cfg.batch)};
  const std::int64_t chunks = cfg.batch / chunk;
  auto plan = std::make_unique<Plan>(dnnl::engine(dnnl::engine::kind::cpu, 0), act, chunk);
  onednn::Lowerer lw(*plan, arch, net, weights);
  const space::Unit& fu = net.units[static_cast<std::size_t>(first)];
  View input;
  Tok x;
  try {
    if (first == 0) {
      input = lw.image_view();
    } else {
      x = Tok{plan->buffer("input.tokens"), fu.in.total(), fu.in_dim, fu.in.grid ? fu.in.h : 0,
              fu.in.grid ? fu.in.w : 0,     fu.in.extra};
      input = plan->view(x.buf, {chunk * x.T, x.C});
    }
    for (int u = first; u <= last; ++u) x = lw.unit(u, x);
  } catch (const dnnl::error& e) {
    return Error{
        fmt::format("oneDNN could not create a primitive: {} (status {})", e.what(), static_cast<int>(e.status))};
  }
  const View output = plan->view(x.buf, {chunk * x.T, x.C});
  // Refuse, before allocating, what cannot fit (the plan reuses buffers: this is the exact need).
  const double need = static_cast<double>(plan->activation_bytes());
  const double ram = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (need > 0.8 * ram)
    return Error{
        fmt::format("batch {} needs {:.1f} GiB of activation buffers, more than 80% of this machine's {:.1f} GiB",
                    cfg.batch, need / (1 << 30), ram / (1 << 30))};
  plan->finalize();
  plan->creation_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  auto r =
      std::make_unique<OnednnRunnable>(std::move(plan), input, output, span->input_shape, span->output_shape, chunks);
  // Realistic, fixed input values, written before any timing.
  std::size_t n = 1;
  for (auto d : span->input_shape) n *= static_cast<std::size_t>(d);
  r->set_input(random_values(n, 42));
  return std::unique_ptr<Runnable>(std::move(r));
}

namespace {

double gemm_gflops(memory::data_type t, std::int64_t n, double budget_ms) {
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const memory::desc a({n, n}, t, memory::format_tag::ab), b_any({n, n}, t, memory::format_tag::any),
      c({n, n}, memory::data_type::f32, memory::format_tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b_any, c), eng);
  memory am(a, eng), bm(pd.weights_desc(), eng), cm(c, eng);
  std::memset(am.get_data_handle(), 0, a.get_size());
  std::memset(bm.get_data_handle(), 0, pd.weights_desc().get_size());
  std::memset(cm.get_data_handle(), 0, c.get_size());
  dnnl::matmul mm(pd);
  TimingConfig cfg;
  cfg.warmup_min_runs = 2;
  cfg.warmup_min_ms = 50;
  cfg.min_samples = 5;
  cfg.min_time_ms = budget_ms / 2;
  cfg.max_time_ms = budget_ms;
  const Measurement m = time_it(
      [&] {
        mm.execute(s, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
        s.wait();
      },
      cfg);
  // The best sample is the peak: interference only ever slows a run down.
  return 2.0 * static_cast<double>(n * n * n) / (m.min_us * 1e3);
}

double triad_gbs() {
  const std::size_t n = 1 << 24;  // 3 × 64 MiB, far beyond the LLC
  std::vector<double> a(n, 1.0), b(n, 2.0), c(n, 3.0);
  TimingConfig cfg;
  cfg.warmup_min_runs = 2;
  cfg.warmup_min_ms = 0;
  cfg.min_samples = 5;
  cfg.min_time_ms = 100;
  cfg.max_time_ms = 400;
  const Measurement m = time_it(
      [&] {
#pragma omp parallel for
        for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + 3.0 * c[i];
      },
      cfg);
  return 3.0 * static_cast<double>(n * sizeof(double)) / (m.min_us * 1e3);
}

}  // namespace

void OnednnBackend::measure_peaks() {
  device_.peak_f32_gflops = gemm_gflops(memory::data_type::f32, 2048, 600);
  device_.peak_bf16_gflops = device_.bf16_native ? gemm_gflops(memory::data_type::bf16, 2048, 400) : 0.0;
  device_.triad_gbs = triad_gbs();
}

double OnednnBackend::calibration_us() {
  const double gflops = gemm_gflops(memory::data_type::f32, 512, 60);
  return 2.0 * 512.0 * 512.0 * 512.0 / (gflops * 1e3);
}

}  // namespace hwnas::prof
