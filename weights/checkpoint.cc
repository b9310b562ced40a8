#include "weights/checkpoint.h"

#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace hwnas::weights {

std::vector<ExpectedTensor> expected_tensors(const space::Lowered& net, space::Convention c) {
  std::vector<ExpectedTensor> out;
  for (space::ParamSpec& s : space::param_specs(net)) out.push_back({space::checkpoint_name(s.name, c), std::move(s)});
  return out;
}

std::vector<std::string> check_tensors(const SafetensorsFile& file, const std::vector<ExpectedTensor>& expected) {
  std::vector<std::string> problems;
  std::set<std::string_view> names;
  for (const ExpectedTensor& e : expected) {
    names.insert(e.name);
    const TensorInfo* t = file.find(e.name);
    if (t == nullptr) {
      problems.push_back(fmt::format("missing: {} (expected {})", e.name, shape_text(e.spec.shape)));
    } else if (t->shape != e.spec.shape) {
      problems.push_back(
          fmt::format("mis-shaped: {}: expected {}, found {}", e.name, shape_text(e.spec.shape), shape_text(t->shape)));
    } else if (!t->dtype) {
      problems.push_back(fmt::format("wrong dtype: {}: {} (F32, F16 or BF16 expected)", e.name, t->dtype_name));
    }
  }
  for (const TensorInfo& t : file.tensors())
    if (names.count(t.name) == 0 && !space::derived_checkpoint_tensor(t.name))
      problems.push_back(fmt::format("unexpected: {} {} {}", t.name, t.dtype_name, shape_text(t.shape)));
  return problems;
}

Result<std::unique_ptr<CheckpointWeights>> CheckpointWeights::open(const std::string& path, const space::Lowered& net,
                                                                   space::Convention c) {
  auto file = SafetensorsFile::open(path);
  if (!file) return file.error();
  const auto expected = expected_tensors(net, c);
  const auto problems = check_tensors(*file, expected);
  if (!problems.empty()) {
    std::string first;
    for (std::size_t i = 0; i < problems.size() && i < 3; ++i) first += (i ? "; " : "") + problems[i];
    return Error{
        fmt::format("{}: does not fit the architecture ({} names): {} problem(s): {}{} (see 'hwnas weights "
                    "check')",
                    path, space::name_of(c), problems.size(), first, problems.size() > 3 ? "; …" : "")};
  }
  std::unique_ptr<CheckpointWeights> w(new CheckpointWeights(std::move(*file), c));
  for (const ExpectedTensor& e : expected) w->by_hwnas_name_[e.spec.name] = w->file_.find(e.name);
  return w;
}

Status write_checkpoint(const std::string& path, const space::Lowered& net, space::Convention c,
                        const space::WeightSource& source, DType dtype,
                        const std::map<std::string, std::string>& metadata) {
  const auto expected = expected_tensors(net, c);
  std::vector<std::vector<float>> values(expected.size());
  std::vector<TensorToWrite> tensors;
  tensors.reserve(expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    values[i].resize(static_cast<std::size_t>(expected[i].spec.numel()));
    source.fill(expected[i].spec, values[i]);
    tensors.push_back(
        {expected[i].name, expected[i].spec.shape, values[i], expected[i].spec.trainable ? dtype : DType::f32});
  }
  return write_safetensors(path, tensors, metadata);
}

void CheckpointWeights::fill(const space::ParamSpec& spec, std::span<float> dst) const {
  auto it = by_hwnas_name_.find(spec.name);
  if (it == by_hwnas_name_.end())
    throw std::logic_error(fmt::format("{}: no tensor for parameter '{}' of this network", file_.source(), spec.name));
  auto read = file_.read_f32(*it->second, dst);
  if (!read) throw std::logic_error(read.error().message);
}

}  // namespace hwnas::weights
