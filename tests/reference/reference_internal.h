// Internals of the reference shared by its source files: a unit's parameters loaded by name, and the
// per-image functions of each unit kind.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "profilers/weight_source.h"
#include "space/arch.h"
#include "space/ops.h"

namespace hwnas::ref::detail {

// Every parameter of one unit, filled once from the WeightSource by the names of param_specs(unit).
class UnitParams {
 public:
  UnitParams(const space::Unit& unit, const prof::WeightSource& weights);
  // The tensor `name`; throws std::runtime_error when the unit declares no such parameter or it does
  // not have `numel` values. Marks it used.
  std::span<const float> get(const std::string& name, std::int64_t numel) const;
  // Declared parameters no get() asked for.
  std::vector<std::string> unused() const;
  const std::string& unit_label() const { return label_; }

 private:
  struct Entry {
    std::vector<float> values;
    mutable bool used = false;
  };
  std::string label_;
  std::map<std::string, Entry> params_;
};

// Linear `prefix`.weight [out, in] (+ `prefix`.bias) on [rows, in].
std::vector<float> apply_linear(const UnitParams& p, const std::string& prefix, std::span<const float> x,
                                std::int64_t rows, std::int64_t in, std::int64_t out, bool bias = true);
// LayerNorm `prefix`.weight/.bias over [rows, channels].
std::vector<float> apply_layer_norm(const UnitParams& p, const std::string& prefix, std::span<const float> x,
                                    std::int64_t rows, std::int64_t channels, double eps);
// BatchNorm (eval) `prefix`.weight/.bias/.running_mean/.running_var over channels-last rows, eps 1e-5.
std::vector<float> apply_batch_norm(const UnitParams& p, const std::string& prefix, std::span<const float> x,
                                    std::int64_t rows, std::int64_t channels);
// x += y elementwise.
void add_inplace(std::vector<float>& x, std::span<const float> y);

// One image through one unit. Stem input: the image [C, H, W]; others: tokens [T, D]. Output: tokens
// [T', D'] (head: [classes]).
std::vector<float> run_stem(const space::Arch& arch, const space::Unit& unit, const UnitParams& p,
                            std::span<const float> image);
std::vector<float> run_downsample(const space::Arch& arch, const space::Unit& unit, const UnitParams& p,
                                  std::span<const float> x);
std::vector<float> run_block(const space::Arch& arch, const space::Unit& unit, const UnitParams& p,
                             std::span<const float> x);
std::vector<float> run_head(const space::Arch& arch, const space::Unit& unit, const UnitParams& p,
                            std::span<const float> x);

}  // namespace hwnas::ref::detail
