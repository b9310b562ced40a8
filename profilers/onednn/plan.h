// A lowered network for oneDNN: activation buffers, weights (reordered once), and the ordered steps
// (a primitive or an own kernel each). Buffers are sized during lowering and allocated once at
// finalize(), when the primitives' memory objects are bound: nothing is allocated while timing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <dnnl.hpp>

namespace hwnas::prof::onednn {

using dnnl::memory;
using dims = memory::dims;

// Raw activation storage, 64-byte aligned, zeroed and touched once at allocation (no page faults
// during timing: MEASURE.md step 2).
class Buffer {
 public:
  explicit Buffer(std::string name) : name_(std::move(name)) {}
  void require(std::size_t bytes) { bytes_ = std::max(bytes_, bytes); }
  void allocate();
  std::byte* data() const { return data_.get(); }
  std::size_t bytes() const { return bytes_; }
  const std::string& name() const { return name_; }

 private:
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::string name_;
  std::size_t bytes_ = 0;
  std::unique_ptr<std::byte, Free> data_;
};

// A strided window onto a buffer: dims and strides in elements, offset in elements.
struct View {
  Buffer* buf = nullptr;
  std::int64_t offset = 0;
  dims shape;
  dims strides;
  memory::data_type type = memory::data_type::f32;

  memory::desc desc() const { return memory::desc(shape, type, strides); }
  std::size_t element_bytes() const { return type == memory::data_type::f32 ? 4 : 2; }
  std::byte* ptr() const { return buf->data() + static_cast<std::size_t>(offset) * element_bytes(); }
  // Bytes from the buffer start to one past the last element addressed (for sizing).
  std::size_t extent_bytes() const;
};

// Dense row-major view of shape `shape` at `offset`.
View dense(Buffer* buf, dims shape, memory::data_type type, std::int64_t offset = 0);

struct Step {
  std::string name;  // "stages.2.blocks.0.attn.qkv"
  std::string impl;  // oneDNN impl_info_str, or "hwnas:<kernel>"
  int unit = -1;
  // Either a primitive with its view arguments (bound at finalize) ...
  std::optional<dnnl::primitive> prim;
  std::vector<std::pair<int, View>> view_args;
  std::unordered_map<int, memory> args;  // bound memory (views and weights)
  // ... or an own kernel.
  std::function<void()> kernel;
};

class Plan {
 public:
  Plan(dnnl::engine eng, memory::data_type act_type, std::int64_t batch);

  const dnnl::engine& engine() const { return eng_; }
  dnnl::stream& stream() { return stream_; }
  memory::data_type act_type() const { return act_type_; }
  std::int64_t batch() const { return batch_; }

  // A named buffer, created on first use; views taken on it grow its size.
  Buffer* buffer(const std::string& name);
  // A view's buffer must hold it.
  View view(Buffer* buf, dims shape, std::int64_t offset = 0);
  View strided(Buffer* buf, dims shape, dims strides, std::int64_t offset = 0);

  // Appends a primitive step; `weights` are already-bound memories (weights, biases, scales).
  void add_primitive(std::string name, int unit, const dnnl::primitive& prim, const std::string& impl,
                     std::vector<std::pair<int, View>> views, std::unordered_map<int, memory> weights = {});
  void add_kernel(std::string name, int unit, std::string impl, std::function<void()> fn);

  // Bytes finalize() will allocate for activations.
  std::size_t activation_bytes() const;
  // Allocates every buffer and binds the views: call once, after lowering.
  void finalize();
  void run();
  void run_step(std::size_t i);
  const std::vector<Step>& steps() const { return steps_; }
  double creation_ms = 0;

 private:
  dnnl::engine eng_;
  dnnl::stream stream_;
  memory::data_type act_type_;
  std::int64_t batch_;
  std::map<std::string, std::unique_ptr<Buffer>> buffers_;
  std::vector<Step> steps_;
  bool finalized_ = false;
};

}  // namespace hwnas::prof::onednn
