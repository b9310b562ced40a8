#include "profilers/cuda/cuda_backend.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <vector>

#include <dlfcn.h>
#include <fmt/format.h>

#include "profilers/backends.h"
#include "profilers/cuda/check.h"
#include "profilers/cuda/lowerer.h"
#include "space/rng.h"

namespace hwnas::prof {
namespace cuda {
namespace {

Elem elem_of(DType t) {
  switch (t) {
    case DType::f32: return Elem::f32;
    case DType::f16: return Elem::f16;
    case DType::bf16: return Elem::bf16;
  }
  return Elem::f32;
}

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  space::Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  return v;
}

std::size_t count(const View& v) {
  std::size_t n = 1;
  for (auto d : v.shape) n *= static_cast<std::size_t>(d);
  return n;
}

class CudaRunnable final : public Runnable {
 public:
  CudaRunnable(std::unique_ptr<Plan> plan, View input, View output, std::vector<i64> in_shape,
               std::vector<i64> out_shape)
      : plan_(std::move(plan)),
        input_(std::move(input)),
        output_(std::move(output)),
        in_shape_(std::move(in_shape)),
        out_shape_(std::move(out_shape)) {}

  void run() override { plan_->enqueue(); }
  std::function<void()> graph_launch() override {
    return [this] { plan_->enqueue_graph(); };
  }
  std::vector<std::string> steps() const override {
    std::vector<std::string> v;
    for (const auto& s : plan_->steps()) v.push_back(s.name);
    return v;
  }
  void run_step(std::size_t i) override { plan_->enqueue_step(i); }
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
    const std::size_t n = std::min(count(input_), values.size());
    cudaStream_t s = plan_->ctx().stream;
    if (input_.type == Elem::f32) {
      check(cudaMemcpyAsync(input_.ptr(), values.data(), n * sizeof(float), cudaMemcpyHostToDevice, s), "set_input");
    } else {
      DeviceBlock staging(n * sizeof(float));
      check(cudaMemcpyAsync(staging.get(), values.data(), n * sizeof(float), cudaMemcpyHostToDevice, s), "set_input");
      kernels::from_f32(input_.type, static_cast<const float*>(staging.get()), input_.ptr(), static_cast<i64>(n), s);
    }
    check(cudaStreamSynchronize(s), "set_input");
  }
  std::vector<float> output() const override {
    const std::size_t n = count(output_);
    std::vector<float> out(n);
    cudaStream_t s = plan_->ctx().stream;
    DeviceBlock staging(n * sizeof(float));
    kernels::to_f32(output_.type, output_.ptr(), static_cast<float*>(staging.get()), static_cast<i64>(n), s);
    check(cudaMemcpyAsync(out.data(), staging.get(), n * sizeof(float), cudaMemcpyDeviceToHost, s), "output");
    check(cudaStreamSynchronize(s), "output");
    return out;
  }
  std::vector<std::int64_t> input_shape() const override { return in_shape_; }
  std::vector<std::int64_t> output_shape() const override { return out_shape_; }
  double creation_ms() const override { return plan_->creation_ms; }

 private:
  std::unique_ptr<Plan> plan_;
  View input_, output_;
  std::vector<i64> in_shape_, out_shape_;
};

// cuDNN's version without linking it (the backend itself does not need cuDNN).
std::string cudnn_version() {
  void* h = dlopen("libcudnn.so.9", RTLD_LAZY | RTLD_LOCAL);
  if (h == nullptr) return "not found";
  using Fn = std::size_t (*)();
  auto fn = reinterpret_cast<Fn>(dlsym(h, "cudnnGetVersion"));
  const std::size_t v = fn != nullptr ? fn() : 0;
  dlclose(h);
  if (v == 0) return "unknown";
  return fmt::format("{}.{}.{}", v / 10000, (v / 100) % 100, v % 100);
}

std::string version3(int v) {
  return fmt::format("{}.{}", v / 1000, (v % 1000) / 10);
}

}  // namespace

CudaBackend::CudaBackend(int dev) {
  ctx_ = std::make_shared<Context>(dev);
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
  compute_capability_ = prop.major * 10 + prop.minor;
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  const std::size_t lt = cublasLtGetVersion();
  device_.kind = "cuda";
  device_.model = fmt::format("{} ({:.0f} GiB)", prop.name, static_cast<double>(prop.totalGlobalMem) / (1 << 30));
  device_.cores = prop.multiProcessorCount;
  device_.threads = 0;
  device_.isa = fmt::format("sm_{}{}", prop.major, prop.minor);
  device_.bf16_native = prop.major >= 8;
  device_.engine = fmt::format("CUDA runtime {} (driver API {}), cuBLASLt {}.{}.{}, cuDNN {}", version3(runtime),
                               version3(driver), lt / 10000, (lt / 100) % 100, lt % 100, cudnn_version());
  check(cudaEventCreate(&start_), "cudaEventCreate");
  check(cudaEventCreate(&stop_), "cudaEventCreate");
}

CudaBackend::~CudaBackend() {
  if (start_ != nullptr) cudaEventDestroy(start_);
  if (stop_ != nullptr) cudaEventDestroy(stop_);
}

std::string CudaBackend::unsupported(const space::Arch& arch, const RunConfig& cfg) const {
  if (cfg.dtype == DType::bf16 && compute_capability_ < 80)
    return fmt::format("bf16 needs compute capability 8.0 or newer; {} is {}", device_.model, device_.isa);
  if (cfg.dtype == DType::f16 && compute_capability_ < 70)
    return fmt::format("f16 needs compute capability 7.0 or newer; {} is {}", device_.model, device_.isa);
  if (cfg.batch < 1) return fmt::format("batch must be >= 1 (got {})", cfg.batch);
  if (cfg.chunk > 0 && cfg.chunk != cfg.batch) return "the CUDA backend runs the whole batch at once (no --chunk)";
  auto net = space::lower(arch);
  if (!net) return net.error().message;
  return "";
}

Result<std::unique_ptr<Runnable>> CudaBackend::prepare(const space::Arch& arch, Subject subject, const RunConfig& cfg,
                                                       const WeightSource& weights) {
  if (auto why = unsupported(arch, cfg); !why.empty()) return Error{why};
  auto lowered = space::lower(arch);
  if (!lowered) return lowered.error();
  const space::Lowered& net = *lowered;
  auto span = unit_span(arch, net, subject, cfg.batch);
  if (!span) return span.error();
  const auto t0 = std::chrono::steady_clock::now();
  const int first = span->first, last = span->last;
  try {
    auto plan = std::make_unique<Plan>(ctx_, elem_of(cfg.dtype), cfg.batch);
    Lowerer lw(*plan, arch, net, weights);
    const space::Unit& fu = net.units[static_cast<std::size_t>(first)];
    View input;
    Tok x;
    if (first == 0) {
      input = lw.image_view();
    } else {
      x = Tok{plan->buffer("input.tokens"), fu.in.total(), fu.in_dim, fu.in.grid ? fu.in.h : 0,
              fu.in.grid ? fu.in.w : 0,     fu.in.extra};
      input = plan->view(x.buf, {cfg.batch * x.T, x.C});
    }
    for (int u = first; u <= last; ++u) x = lw.unit(u, x);
    const View output = plan->view(x.buf, {cfg.batch * x.T, x.C});
    std::size_t free_b = 0, total_b = 0;
    check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    const double need = static_cast<double>(plan->activation_bytes());
    if (need > 0.9 * static_cast<double>(free_b))
      return Error{fmt::format("batch {} needs {:.1f} GiB of activation buffers; the GPU has {:.1f} GiB free",
                               cfg.batch, need / (1 << 30), static_cast<double>(free_b) / (1 << 30))};
    plan->finalize();
    plan->creation_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    auto r = std::make_unique<CudaRunnable>(std::move(plan), input, output, span->input_shape, span->output_shape);
    std::size_t n = 1;
    for (auto d : span->input_shape) n *= static_cast<std::size_t>(d);
    r->set_input(random_values(n, 42));
    return std::unique_ptr<Runnable>(std::move(r));
  } catch (const CudaError& e) {
    return Error{fmt::format("CUDA backend: {}", e.what())};
  }
}

Clock CudaBackend::clock() const {
  auto ctx = ctx_;
  return [ctx] {
    cudaStreamSynchronize(ctx->stream);
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
}

Measurement CudaBackend::time(const std::function<void()>& call, const TimingConfig& cfg) {
  // One event pair per sample (k calls), one synchronisation.
  return time_blocks(
      [&](std::int64_t k) {
        check(cudaEventRecord(start_, ctx_->stream), "cudaEventRecord");
        for (std::int64_t i = 0; i < k; ++i) call();
        check(cudaEventRecord(stop_, ctx_->stream), "cudaEventRecord");
        check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
        return static_cast<double>(ms) * 1e3;
      },
      cfg, steady_clock_us());
}

std::string CudaBackend::device_state() const {
  // Logged, never changed (MEASURE.md: leave the lent GPU's clocks alone).
  const std::string cmd = fmt::format(
      "nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv,noheader -i {} 2>/dev/null",
      ctx_->device);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::array<char, 256> buf{};
  std::string out;
  while (fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) out += buf.data();
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "" : "sm, mem clocks, temperature, power: " + out;
}

double CudaBackend::gemm_gflops(Elem e, std::int64_t n, int reps) {
  Plan plan(ctx_, e, 1);
  const View a = plan.view(plan.buffer("a"), {n, n});
  const View c = plan.view(plan.buffer("c"), {n, n});
  linear(plan, "peak", 0, a, c, random_values(static_cast<std::size_t>(n * n), 7), nullptr);
  plan.finalize();
  {
    const auto values = random_values(static_cast<std::size_t>(n * n), 8);
    DeviceBlock staging(values.size() * sizeof(float));
    check(cudaMemcpy(staging.get(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice), "peak");
    kernels::from_f32(e, static_cast<const float*>(staging.get()), a.ptr(), n * n, ctx_->stream);
    check(cudaStreamSynchronize(ctx_->stream), "peak");
  }
  double best_us = 1e300;
  for (int i = 0; i < reps + 3; ++i) {
    check(cudaEventRecord(start_, ctx_->stream), "peak");
    plan.enqueue();
    check(cudaEventRecord(stop_, ctx_->stream), "peak");
    check(cudaEventSynchronize(stop_), "peak");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start_, stop_), "peak");
    if (i >= 3) best_us = std::min(best_us, static_cast<double>(ms) * 1e3);
  }
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / (best_us * 1e3);
}

double CudaBackend::copy_gbs() {
  const std::size_t bytes = std::size_t{1} << 30;
  DeviceBlock a(bytes), b(bytes);
  check(cudaMemset(a.get(), 1, bytes), "copy");
  double best_us = 1e300;
  for (int i = 0; i < 13; ++i) {
    check(cudaEventRecord(start_, ctx_->stream), "copy");
    check(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, ctx_->stream), "copy");
    check(cudaEventRecord(stop_, ctx_->stream), "copy");
    check(cudaEventSynchronize(stop_), "copy");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start_, stop_), "copy");
    if (i >= 3) best_us = std::min(best_us, static_cast<double>(ms) * 1e3);
  }
  return 2.0 * static_cast<double>(bytes) / (best_us * 1e3);  // bytes read + written
}

void CudaBackend::measure_peaks() {
  device_.peak_f32_gflops = gemm_gflops(Elem::f32, 4096, 10);
  device_.peak_bf16_gflops = device_.bf16_native ? gemm_gflops(Elem::bf16, 8192, 10) : 0.0;
  device_.triad_gbs = copy_gbs();
}

double CudaBackend::calibration_us() {
  const double gflops = gemm_gflops(device_.bf16_native ? Elem::bf16 : Elem::f32, 4096, 10);
  return 2.0 * 4096.0 * 4096.0 * 4096.0 / (gflops * 1e3);
}

}  // namespace cuda

bool cuda_built() {
  return true;
}

Result<std::unique_ptr<Backend>> make_cuda_backend(int device) {
  int n = 0;
  const cudaError_t st = cudaGetDeviceCount(&n);
  if (st != cudaSuccess)
    return Error{fmt::format("no CUDA device usable: {} (is there an NVIDIA GPU and driver on this machine?)",
                             cudaGetErrorString(st))};
  if (device < 0 || device >= n)
    return Error{fmt::format("no CUDA device {}: this machine has {} (cuda:0 … cuda:{})", device, n, n - 1)};
  try {
    return std::unique_ptr<Backend>(std::make_unique<cuda::CudaBackend>(device));
  } catch (const cuda::CudaError& e) {
    return Error{fmt::format("CUDA device {} could not be opened: {}", device, e.what())};
  }
}

}  // namespace hwnas::prof
