#include "profilers/cuda/plan.h"

#include <stdexcept>

#include <fmt/format.h>

#include "profilers/cuda/check.h"

namespace hwnas::prof::cuda {

Context::Context(int dev) : device(dev) {
  check(cudaSetDevice(dev), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cublasCreate(&blas), "cublasCreate");
  check(cublasSetStream(blas, stream), "cublasSetStream");
  check(cublasLtCreate(&lt), "cublasLtCreate");
  check(cudaMalloc(&workspace, kWorkspaceBytes), "cudaMalloc(workspace)");
  // A fixed workspace: no allocation inside a graph capture.
  check(cublasSetWorkspace(blas, workspace, kWorkspaceBytes), "cublasSetWorkspace");
}

Context::~Context() {
  if (workspace != nullptr) cudaFree(workspace);
  if (lt != nullptr) cublasLtDestroy(lt);
  if (blas != nullptr) cublasDestroy(blas);
  if (stream != nullptr) cudaStreamDestroy(stream);
}

DeviceBlock::DeviceBlock(std::size_t bytes) {
  check(cudaMalloc(&p_, bytes == 0 ? 256 : bytes), "cudaMalloc");
}

DeviceBlock::~DeviceBlock() {
  cudaFree(p_);
}

std::size_t View::extent_bytes() const {
  i64 last = offset;
  for (std::size_t i = 0; i < shape.size(); ++i) last += (shape[i] - 1) * strides[i];
  return static_cast<std::size_t>(last + 1) * element_bytes();
}

std::uint32_t View::alignment() const {
  const auto bytes = static_cast<std::uint64_t>(offset) * element_bytes();
  std::uint32_t a = 256;
  while (a > 1 && bytes % a != 0) a /= 2;
  return a;
}

Plan::Plan(std::shared_ptr<Context> ctx, Elem act, i64 batch) : ctx_(std::move(ctx)), act_(act), batch_(batch) {}

Plan::~Plan() {
  if (graph_ != nullptr) cudaGraphExecDestroy(graph_);
}

Buffer* Plan::buffer(const std::string& name) {
  auto& b = buffers_[name];
  if (!b) b = std::make_unique<Buffer>(name);
  return b.get();
}

View Plan::view(Buffer* buf, std::vector<i64> shape, i64 offset) {
  std::vector<i64> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strided(buf, std::move(shape), std::move(strides), offset);
}

View Plan::strided(Buffer* buf, std::vector<i64> shape, std::vector<i64> strides, i64 offset) {
  View v{buf, offset, std::move(shape), std::move(strides), act_};
  buf->require(v.extent_bytes());
  return v;
}

View Plan::typed(Buffer* buf, std::vector<i64> shape, Elem type) {
  View v = view(buf, std::move(shape));
  v.type = type;
  buf->require(v.extent_bytes());
  return v;
}

float* Plan::upload_f32(const std::vector<float>& values) {
  auto* p = static_cast<float*>(own(values.size() * sizeof(float)));
  check(cudaMemcpyAsync(p, values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice, ctx_->stream),
        "upload");
  check(cudaStreamSynchronize(ctx_->stream), "upload");
  return p;
}

void* Plan::upload_act(const std::vector<float>& values) {
  if (act_ == Elem::f32) return upload_f32(values);
  DeviceBlock staging(values.size() * sizeof(float));
  check(cudaMemcpyAsync(staging.get(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice,
                        ctx_->stream),
        "upload");
  void* p = own(values.size() * kernels::size_of(act_));
  kernels::from_f32(act_, static_cast<const float*>(staging.get()), p, static_cast<i64>(values.size()), ctx_->stream);
  check(cudaStreamSynchronize(ctx_->stream), "upload");
  return p;
}

void* Plan::own(std::size_t bytes) {
  owned_.push_back(std::make_unique<DeviceBlock>(bytes));
  return owned_.back()->get();
}

void Plan::add(std::string name, int unit, std::string impl, std::function<void(cudaStream_t)> fn) {
  steps_.push_back(Step{std::move(name), std::move(impl), unit, std::move(fn)});
}

std::size_t Plan::activation_bytes() const {
  std::size_t total = 0;
  for (const auto& [name, b] : buffers_) total += (b->bytes() + 255) / 256 * 256;
  return total;
}

void Plan::finalize() {
  if (finalized_) throw std::logic_error("Plan::finalize called twice");
  const std::size_t total = activation_bytes();
  arena_ = std::make_unique<DeviceBlock>(total);
  check(cudaMemsetAsync(arena_->get(), 0, total, ctx_->stream), "cudaMemset(arena)");
  std::size_t at = 0;
  for (auto& [name, b] : buffers_) {
    b->place(static_cast<std::byte*>(arena_->get()) + at);
    at += (b->bytes() + 255) / 256 * 256;
  }
  for (auto& h : hooks_) h();
  check(cudaStreamSynchronize(ctx_->stream), "finalize");
  finalized_ = true;
}

void Plan::enqueue() {
  for (auto& s : steps_) s.fn(ctx_->stream);
}

void Plan::enqueue_step(std::size_t i) {
  steps_.at(i).fn(ctx_->stream);
}

void Plan::enqueue_graph() {
  if (graph_ == nullptr) {
    cudaGraph_t g = nullptr;
    check(cudaStreamBeginCapture(ctx_->stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      enqueue();
    } catch (...) {
      cudaStreamEndCapture(ctx_->stream, &g);
      if (g != nullptr) cudaGraphDestroy(g);
      throw;
    }
    check(cudaStreamEndCapture(ctx_->stream, &g), "cudaStreamEndCapture");
    const cudaError_t st = cudaGraphInstantiate(&graph_, g, 0);
    cudaGraphDestroy(g);
    check(st, "cudaGraphInstantiate");
  }
  check(cudaGraphLaunch(graph_, ctx_->stream), "cudaGraphLaunch");
}

}  // namespace hwnas::prof::cuda
