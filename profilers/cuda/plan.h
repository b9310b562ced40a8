// A lowered network for CUDA: activation buffers (one device arena, allocated and zeroed once at
// finalize()), weights uploaded once in the activation type, and the ordered steps (a cuBLAS(Lt)
// call or an own kernel each), all enqueued on one stream. The same steps replay as a CUDA graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "profilers/cuda/kernels.h"

namespace hwnas::prof::cuda {

using kernels::Elem;
using i64 = std::int64_t;

// Handles shared by every plan of one backend: the stream, cuBLAS and cuBLASLt, the workspace.
struct Context {
  explicit Context(int device);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  void* workspace = nullptr;
  static constexpr std::size_t kWorkspaceBytes = 64u << 20;
};

// Device memory owned by a plan (weights, constants, pointer arrays).
class DeviceBlock {
 public:
  explicit DeviceBlock(std::size_t bytes);
  ~DeviceBlock();
  DeviceBlock(const DeviceBlock&) = delete;
  DeviceBlock& operator=(const DeviceBlock&) = delete;
  void* get() const { return p_; }

 private:
  void* p_ = nullptr;
};

// A named activation buffer: sized by the views taken on it, placed in the arena at finalize().
class Buffer {
 public:
  explicit Buffer(std::string name) : name_(std::move(name)) {}
  void require(std::size_t bytes) { bytes_ = bytes > bytes_ ? bytes : bytes_; }
  std::byte* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  const std::string& name() const { return name_; }
  void place(std::byte* at) { data_ = at; }

 private:
  std::string name_;
  std::size_t bytes_ = 0;
  std::byte* data_ = nullptr;
};

// A strided window onto a buffer: dims and strides in elements, offset in elements.
struct View {
  Buffer* buf = nullptr;
  i64 offset = 0;
  std::vector<i64> shape, strides;
  Elem type = Elem::f32;

  std::size_t element_bytes() const { return kernels::size_of(type); }
  void* ptr() const { return buf->data() + static_cast<std::size_t>(offset) * element_bytes(); }
  std::size_t extent_bytes() const;
  // Largest power of two (≤ 256) dividing the byte offset: the alignment cuBLASLt may assume.
  std::uint32_t alignment() const;
};

struct Step {
  std::string name;  // "blocks.3.attn.qkv"
  std::string impl;  // "cublasLt", "cublas:batched", "hwnas:layer_norm"
  int unit = -1;
  std::function<void(cudaStream_t)> fn;
};

class Plan {
 public:
  Plan(std::shared_ptr<Context> ctx, Elem act, i64 batch);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  Context& ctx() const { return *ctx_; }
  Elem act() const { return act_; }
  i64 batch() const { return batch_; }

  Buffer* buffer(const std::string& name);
  View view(Buffer* buf, std::vector<i64> shape, i64 offset = 0);
  View strided(Buffer* buf, std::vector<i64> shape, std::vector<i64> strides, i64 offset = 0);
  View typed(Buffer* buf, std::vector<i64> shape, Elem type);  // dense, another element type (the fp32 image)

  // Constants, uploaded now: fp32 as is, or converted to the activation type.
  float* upload_f32(const std::vector<float>& values);
  void* upload_act(const std::vector<float>& values);
  // Device memory the plan owns (pointer arrays, filled by an on_finalize hook).
  void* own(std::size_t bytes);

  void add(std::string name, int unit, std::string impl, std::function<void(cudaStream_t)> fn);
  // Runs after the arena is placed (pointers of activation views are known then).
  void on_finalize(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }

  std::size_t activation_bytes() const;
  void finalize();
  void enqueue();  // every step, in order, on the context's stream
  void enqueue_step(std::size_t i);
  // Captures the steps once as a CUDA graph, then replays it.
  void enqueue_graph();
  const std::vector<Step>& steps() const { return steps_; }
  double creation_ms = 0;

 private:
  std::shared_ptr<Context> ctx_;
  Elem act_;
  i64 batch_;
  std::map<std::string, std::unique_ptr<Buffer>> buffers_;
  std::vector<std::unique_ptr<DeviceBlock>> owned_;
  std::unique_ptr<DeviceBlock> arena_;
  std::vector<Step> steps_;
  std::vector<std::function<void()>> hooks_;
  cudaGraphExec_t graph_ = nullptr;
  bool finalized_ = false;
};

}  // namespace hwnas::prof::cuda
