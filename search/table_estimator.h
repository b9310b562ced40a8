// `--objective table:FILE.csv`: accuracies the user measured, one row per architecture, and a
// documented estimate for the architectures the table does not name.
//
//   arch,accuracy,note          a header row; `top1` is accepted for `accuracy`; other columns are
//   deit-tiny,72.2,             ignored; names match case-insensitively
//   pvtv2-b0,70.5,"timm, 224"   `arch` is a preset name (space::presets()),
//   3f9a0c2e4b1d5a77,74.1,      or an arch hash (space::hash_hex(space::arch_hash(arch))),
//   archs/mine.json,75.0,       or an arch JSON file (relative to the CSV's folder)
//
// The CSV is RFC 4180 (comma-separated, fields may be "quoted" with "" for a quote, LF or CRLF line
// ends), strictly: every row has the header's number of fields, blank lines are skipped, spaces
// around an unquoted field are dropped. Every row's accuracy is a finite number; an arch named twice
// (also as a preset and as its hash) is refused; a table without rows is refused. Errors name the
// file, line, column and rule: "acc.csv:4: column 'accuracy': not a number ('abc')".
//
// An arch in the table gets its value. Any other arch gets an estimate from the rows whose arch can
// be rebuilt (a preset, a JSON file, or a hash the resolver knows), computed from the arch alone with
// the features of table_features(), each standardised over those rows (a feature that does not vary
// among them is left out):
//   - ridge regression when there are at least (features used) + 2 such rows: with Z the standardised
//     features and ȳ the mean value, w solves (ZᵀZ/n + λI)·w = Zᵀ(y − ȳ)/n (λ = kTableRidgeLambda)
//     and the estimate is ȳ + z·w;
//   - otherwise the value of the nearest of them (Euclidean distance in standardised features; the
//     earlier row on a tie);
// then clamped to the table's values widened by 10% of their range on each side (a linear model
// extrapolated far from what was measured says nothing). A row naming only a hash the resolver does
// not know serves exact lookups only. With no rebuildable row, an unseen arch is an Error.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "search/estimator.h"
#include "space/arch.h"
#include "space/result.h"

namespace hwnas::search {

// What the estimate for an unseen arch is computed from, in this order: ln(params), ln(executed
// MACs), blocks (all of them), mean width (stage dim averaged over blocks), attention share (blocks
// whose mixer is msa, hilo, window or sra, over all blocks: a count would repeat `blocks` for most
// families), ln(input pixels). `arch` must be validated.
inline constexpr std::size_t kTableFeatures = 6;
using TableFeatures = std::array<double, kTableFeatures>;
const std::array<std::string_view, kTableFeatures>& table_feature_names();
Result<TableFeatures> table_features(const space::Arch& arch);

// Leave-one-out over the 18 presets with a published top-1: mean absolute error 1.38 points (the
// mean of the others: 4.05); λ 0.01–0.1 all give 1.3–1.5.
inline constexpr double kTableRidgeLambda = 0.05;

// Rebuilds an arch from its hash when it can (the CLI answers from the store's `archs` table), so
// that a row naming a hash also serves the estimate for unseen archs. It returns a validated arch
// (or nothing). Empty: hashes are lookups only.
using ArchResolver = std::function<std::optional<space::Arch>(const std::string& hash)>;

class TableEstimator;

// Reads FILE (the path after "table:").
Result<std::unique_ptr<Estimator>> make_table_estimator(const std::string& path, const ArchResolver& resolve = {});
// The same from the file's text; `source` names it in messages and is where relative JSON paths start.
Result<std::unique_ptr<TableEstimator>> parse_table_estimator(std::string_view text, const std::string& source,
                                                              const ArchResolver& resolve = {});

class TableEstimator final : public Estimator {
 public:
  std::string name() const override { return name_; }
  // "table:" + the hash of the file's bytes.
  std::string cache_key() const override { return cache_key_; }
  bool cacheable() const override { return false; }
  Result<double> estimate(const space::Arch& arch, const std::string& hash) override;

  std::size_t rows() const { return values_.size(); }
  std::size_t rows_with_features() const { return y_.size(); }
  // How unseen archs are estimated: "ridge regression on 18 rows (5 features)", "nearest of 4 rows
  // (5 features)", "none (no row names an arch that can be rebuilt)".
  std::string method() const;

 private:
  friend Result<std::unique_ptr<TableEstimator>> parse_table_estimator(std::string_view, const std::string&,
                                                                       const ArchResolver&);
  TableEstimator() = default;
  void fit();

  std::string source_, name_, cache_key_;
  std::unordered_map<std::string, double> values_;  // hash → value
  std::vector<TableFeatures> x_;                    // rows whose arch could be rebuilt
  std::vector<double> y_;
  TableFeatures mean_{}, scale_{};  // standardisation; scale 0: the feature is left out
  std::size_t used_ = 0;            // features that vary
  bool ridge_ = false;
  TableFeatures weights_{};  // ridge, on standardised features
  double intercept_ = 0;
  double low_ = 0, high_ = 0;  // clamp
};

}  // namespace hwnas::search
