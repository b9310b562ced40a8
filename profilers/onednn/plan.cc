#include "profilers/onednn/plan.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace hwnas::prof::onednn {

void Buffer::allocate() {
  const std::size_t size = (std::max<std::size_t>(bytes_, 64) + 63) / 64 * 64;
  data_.reset(static_cast<std::byte*>(std::aligned_alloc(64, size)));
  if (!data_) throw std::bad_alloc();
  std::memset(data_.get(), 0, size);  // writes every page before timing
}

std::size_t View::extent_bytes() const {
  std::int64_t last = offset;
  for (std::size_t i = 0; i < shape.size(); ++i) last += (shape[i] - 1) * strides[i];
  return static_cast<std::size_t>(last + 1) * element_bytes();
}

View dense(Buffer* buf, dims shape, memory::data_type type, std::int64_t offset) {
  dims strides(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  View v{buf, offset, std::move(shape), std::move(strides), type};
  buf->require(v.extent_bytes());
  return v;
}

Plan::Plan(dnnl::engine eng, memory::data_type act_type, std::int64_t batch)
    : eng_(std::move(eng)), stream_(eng_), act_type_(act_type), batch_(batch) {}

Buffer* Plan::buffer(const std::string& name) {
  auto& b = buffers_[name];
  if (!b) b = std::make_unique<Buffer>(name);
  return b.get();
}

View Plan::view(Buffer* buf, dims shape, std::int64_t offset) {
  return dense(buf, std::move(shape), act_type_, offset);
}

View Plan::strided(Buffer* buf, dims shape, dims strides, std::int64_t offset) {
  View v{buf, offset, std::move(shape), std::move(strides), act_type_};
  buf->require(v.extent_bytes());
  return v;
}

void Plan::add_primitive(std::string name, int unit, const dnnl::primitive& prim, const std::string& impl,
                         std::vector<std::pair<int, View>> views, std::unordered_map<int, memory> weights) {
  Step s;
  s.name = std::move(name);
  s.unit = unit;
  s.prim = prim;
  s.impl = impl;
  s.view_args = std::move(views);
  s.args = std::move(weights);
  steps_.push_back(std::move(s));
}

void Plan::add_kernel(std::string name, int unit, std::string impl, std::function<void()> fn) {
  Step s;
  s.name = std::move(name);
  s.unit = unit;
  s.impl = std::move(impl);
  s.kernel = std::move(fn);
  steps_.push_back(std::move(s));
}

std::size_t Plan::activation_bytes() const {
  std::size_t total = 0;
  for (const auto& [name, b] : buffers_) total += b->bytes();
  return total;
}

void Plan::finalize() {
  if (finalized_) return;
  for (auto& [name, b] : buffers_) b->allocate();
  for (Step& s : steps_) {
    for (auto& [arg, v] : s.view_args) s.args[arg] = memory(v.desc(), eng_, v.ptr());
  }
  finalized_ = true;
}

void Plan::run_step(std::size_t i) {
  Step& s = steps_[i];
  if (s.prim) {
    s.prim->execute(stream_, s.args);
  } else {
    s.kernel();
  }
}

void Plan::run() {
  for (std::size_t i = 0; i < steps_.size(); ++i) run_step(i);
  stream_.wait();
}

}  // namespace hwnas::prof::onednn
