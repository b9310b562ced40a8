#include "search/table_estimator.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/count.h"
#include "space/ops.h"
#include "space/presets.h"
#include "space/suggest.h"

namespace hwnas::search {
namespace {

struct CsvRow {
  int line = 0;  // where the row starts
  std::vector<std::string> fields;
};

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// RFC 4180, strictly: a quote may only open a field (spaces before it allowed) and close it (spaces
// after it allowed); "" inside a quoted field is a quote; quoted fields may span lines. Unquoted
// fields are trimmed. Blank lines are skipped.
Result<std::vector<CsvRow>> read_csv(std::string_view text, const std::string& source) {
  std::vector<CsvRow> rows;
  const std::size_t n = text.size();
  std::size_t i = 0;
  int line = 1;
  const auto at_eol = [&] { return text[i] == '\n' || (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n'); };
  while (i < n) {
    CsvRow row{line, {}};
    bool blank = true;
    for (;;) {
      std::size_t j = i;
      while (j < n && (text[j] == ' ' || text[j] == '\t')) ++j;
      std::string field;
      if (j < n && text[j] == '"') {
        blank = false;
        const int opened = line;
        i = j + 1;
        for (;;) {
          if (i >= n) return Error{fmt::format("{}:{}: a quoted field is not closed", source, opened)};
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
        if (i < n && text[i] != ',' && !at_eol()) {
          return Error{fmt::format("{}:{}: text after the closing quote of a field", source, line)};
        }
      } else {
        const std::size_t start = i;
        while (i < n && text[i] != ',' && !at_eol()) {
          if (text[i] == '"') {
            return Error{fmt::format(
                "{}:{}: a quote inside an unquoted field (quote the whole field, doubling the quote)", source, line)};
          }
          ++i;
        }
        field = trim(text.substr(start, i - start));
        if (!field.empty()) blank = false;
      }
      row.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        blank = false;
        ++i;
        continue;
      }
      break;
    }
    if (i < n) {  // at a line end
      i += text[i] == '\r' ? 2 : 1;
      ++line;
    }
    if (!blank) rows.push_back(std::move(row));
  }
  return rows;
}

bool is_hash(std::string_view s) {
  return s.size() == 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

bool is_attention(space::MixerKind k) {
  switch (k) {
    case space::MixerKind::msa:
    case space::MixerKind::hilo:
    case space::MixerKind::window:
    case space::MixerKind::sra: return true;
    case space::MixerKind::none:
    case space::MixerKind::skip:
    case space::MixerKind::normskip:
    case space::MixerKind::bconv:
    case space::MixerKind::kCount: return false;
  }
  return false;
}

// Solves A·x = b (A symmetric positive definite: ZᵀZ/n + λI) by Gaussian elimination with pivoting.
TableFeatures solve(std::array<TableFeatures, kTableFeatures> a, TableFeatures b) {
  constexpr std::size_t k = kTableFeatures;
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    std::swap(a[c], a[p]);
    std::swap(b[c], b[p]);
    for (std::size_t r = c + 1; r < k; ++r) {
      const double f = a[r][c] / a[c][c];
      for (std::size_t q = c; q < k; ++q) a[r][q] -= f * a[c][q];
      b[r] -= f * b[c];
    }
  }
  TableFeatures x{};
  for (std::size_t c = k; c-- > 0;) {
    double s = b[c];
    for (std::size_t q = c + 1; q < k; ++q) s -= a[c][q] * x[q];
    x[c] = s / a[c][c];
  }
  return x;
}

}  // namespace

const std::array<std::string_view, kTableFeatures>& table_feature_names() {
  static const std::array<std::string_view, kTableFeatures> kNames = {
      "ln_params", "ln_macs", "blocks", "mean_dim", "attention_share", "ln_input_pixels"};
  return kNames;
}

Result<TableFeatures> table_features(const space::Arch& arch) {
  thread_local space::Lowerer lowerer;  // features of every candidate the search ranks: no allocation
  auto net = lowerer.lower(arch);
  if (!net) return net.error();
  const space::Counts c = space::count(**net);
  double blocks = 0, dims = 0, attention = 0;
  for (const space::Stage& s : arch.stages) {
    for (const space::Block& b : s.blocks) {
      blocks += 1;
      dims += static_cast<double>(s.dim);
      if (is_attention(b.mixer.kind)) attention += 1;
    }
  }
  const auto ln = [](std::int64_t v) { return std::log(static_cast<double>(std::max<std::int64_t>(v, 1))); };
  return TableFeatures{ln(c.params),
                       ln(c.macs),
                       blocks,
                       blocks > 0 ? dims / blocks : 0.0,
                       blocks > 0 ? attention / blocks : 0.0,
                       ln(arch.input.height * arch.input.width)};
}

void TableEstimator::fit() {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& [hash, v] : values_) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  low_ = lo - 0.1 * (hi - lo);
  high_ = hi + 0.1 * (hi - lo);
  const std::size_t n = y_.size();
  if (n == 0) return;
  const double nd = static_cast<double>(n);
  used_ = 0;
  for (std::size_t j = 0; j < kTableFeatures; ++j) {
    double m = 0;
    for (const auto& x : x_) m += x[j];
    m /= nd;
    double var = 0;
    for (const auto& x : x_) var += (x[j] - m) * (x[j] - m);
    const double sd = std::sqrt(var / nd);
    mean_[j] = m;
    scale_[j] = sd > 1e-9 * std::max(1.0, std::abs(m)) ? sd : 0.0;
    if (scale_[j] > 0) ++used_;
  }
  double y_mean = 0;
  for (double y : y_) y_mean += y;
  y_mean /= nd;
  intercept_ = y_mean;
  ridge_ = n >= used_ + 2;
  if (!ridge_) return;
  std::array<TableFeatures, kTableFeatures> a{};
  TableFeatures b{};
  for (std::size_t r = 0; r < n; ++r) {
    TableFeatures z{};
    for (std::size_t j = 0; j < kTableFeatures; ++j) z[j] = scale_[j] > 0 ? (x_[r][j] - mean_[j]) / scale_[j] : 0.0;
    for (std::size_t p = 0; p < kTableFeatures; ++p) {
      for (std::size_t q = 0; q < kTableFeatures; ++q) a[p][q] += z[p] * z[q] / nd;
      b[p] += z[p] * (y_[r] - y_mean) / nd;
    }
  }
  for (std::size_t p = 0; p < kTableFeatures; ++p) a[p][p] += kTableRidgeLambda;
  weights_ = solve(a, b);
}

std::string TableEstimator::method() const {
  if (y_.empty()) return "none (no row names an arch that can be rebuilt)";
  return fmt::format("{} {} row{} ({} feature{})", ridge_ ? "ridge regression on" : "nearest of", y_.size(),
                     y_.size() == 1 ? "" : "s", used_, used_ == 1 ? "" : "s");
}

Result<double> TableEstimator::estimate(const space::Arch& arch, const std::string& hash) {
  if (auto it = values_.find(hash); it != values_.end()) return it->second;
  if (y_.empty()) {
    return Error{fmt::format(
        "{}: {} is not in the table, and no row names an arch that can be rebuilt (a preset or an arch .json file) "
        "to estimate it from",
        source_, hash)};
  }
  auto f = table_features(arch);
  if (!f) return Error{fmt::format("{}: {}: {}", source_, hash, f.error().message)};
  TableFeatures z{};
  for (std::size_t j = 0; j < kTableFeatures; ++j) z[j] = scale_[j] > 0 ? ((*f)[j] - mean_[j]) / scale_[j] : 0.0;
  double v = intercept_;
  if (ridge_) {
    for (std::size_t j = 0; j < kTableFeatures; ++j) v += weights_[j] * z[j];
  } else {
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < x_.size(); ++r) {
      double d = 0;
      for (std::size_t j = 0; j < kTableFeatures; ++j) {
        if (scale_[j] == 0) continue;
        const double dz = (x_[r][j] - mean_[j]) / scale_[j] - z[j];
        d += dz * dz;
      }
      if (d < best) {
        best = d;
        v = y_[r];
      }
    }
  }
  if (!std::isfinite(v)) return Error{fmt::format("{}: {}: the estimate is not a finite number", source_, hash)};
  return std::clamp(v, low_, high_);
}

Result<std::unique_ptr<TableEstimator>> parse_table_estimator(std::string_view text, const std::string& source,
                                                              const ArchResolver& resolve) {
  std::unique_ptr<TableEstimator> t(new TableEstimator());
  t->source_ = source;
  t->name_ = "table:" + source;
  t->cache_key_ = "table:" + space::hash_hex(space::hash64(std::string(text)));
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a byte-order mark (spreadsheets write one)

  auto csv = read_csv(text, source);
  if (!csv) return csv.error();
  if (csv->empty()) return Error{fmt::format("{}: empty file (expected a header row: arch,accuracy)", source)};
  const CsvRow& header = csv->front();
  int arch_col = -1, value_col = -1;
  std::string value_name;
  for (std::size_t c = 0; c < header.fields.size(); ++c) {
    const std::string name = lower(header.fields[c]);
    for (std::size_t d = 0; d < c; ++d) {
      if (lower(header.fields[d]) == name && !name.empty()) {
        return Error{fmt::format("{}:{}: column '{}' appears twice in the header", source, header.line, name)};
      }
    }
    if (name == "arch") arch_col = static_cast<int>(c);
    if (name == "accuracy" || name == "top1") {
      if (value_col >= 0) {
        return Error{fmt::format("{}:{}: both 'accuracy' and 'top1' columns (keep one)", source, header.line)};
      }
      value_col = static_cast<int>(c);
      value_name = name;
    }
  }
  if (arch_col < 0 || value_col < 0) {
    return Error{fmt::format("{}:{}: the header needs an 'arch' column and an 'accuracy' (or 'top1') column (got '{}')",
                             source, header.line, fmt::join(header.fields, ","))};
  }

  const std::filesystem::path folder = std::filesystem::path(source).parent_path();
  std::vector<std::string> preset_names;
  for (const auto& p : space::presets()) preset_names.push_back(p.name);
  std::unordered_map<std::string, int> line_of;  // hash → the line that named it
  for (std::size_t r = 1; r < csv->size(); ++r) {
    const CsvRow& row = (*csv)[r];
    const auto fail = [&](std::string_view column, const std::string& why) {
      return Error{fmt::format("{}:{}: column '{}': {}", source, row.line, column, why)};
    };
    if (row.fields.size() != header.fields.size()) {
      return Error{fmt::format("{}:{}: {} field{}, the header has {}", source, row.line, row.fields.size(),
                               row.fields.size() == 1 ? "" : "s", header.fields.size())};
    }
    const std::string& a = row.fields[static_cast<std::size_t>(arch_col)];
    const std::string& v = row.fields[static_cast<std::size_t>(value_col)];

    std::optional<space::Arch> arch;
    std::string hash;
    if (a.empty()) return fail("arch", "empty");
    if (is_hash(a)) {
      hash = lower(a);
      if (resolve) arch = resolve(hash);
    } else if (lower(a).ends_with(".json")) {
      const std::filesystem::path p = std::filesystem::path(a).is_absolute() ? std::filesystem::path(a) : folder / a;
      auto loaded = space::load_arch_file(p.string());
      if (!loaded) return fail("arch", loaded.error().message);
      arch = std::move(*loaded);
    } else {
      auto p = space::preset(a);
      if (!p) {
        const std::string hint = space::did_you_mean(a, preset_names);
        return fail("arch", fmt::format("not a preset, an arch hash (16 hex digits) or an arch .json file ('{}'{})", a,
                                        hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
      }
      arch = std::move(*p);
    }
    if (arch && hash.empty()) hash = space::hash_hex(space::arch_hash(*arch));
    if (auto seen = line_of.find(hash); seen != line_of.end()) {
      return fail("arch", fmt::format("'{}' is already in the table (line {})", a, seen->second));
    }
    line_of.emplace(hash, row.line);

    if (v.empty()) return fail(value_name, "empty");
    double value = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec == std::errc::result_out_of_range) return fail(value_name, fmt::format("out of range ('{}')", v));
    if (ec != std::errc() || end != v.data() + v.size()) return fail(value_name, fmt::format("not a number ('{}')", v));
    if (!std::isfinite(value)) return fail(value_name, fmt::format("not a finite number ('{}')", v));

    t->values_.emplace(hash, value);
    if (arch) {
      auto f = table_features(*arch);
      if (!f) return fail("arch", f.error().message);
      t->x_.push_back(*f);
      t->y_.push_back(value);
    }
  }
  if (t->values_.empty()) return Error{fmt::format("{}: no rows (the table is empty)", source)};
  t->fit();
  return t;
}

Result<std::unique_ptr<Estimator>> make_table_estimator(const std::string& path, const ArchResolver& resolve) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot read: {}", path, std::strerror(errno))};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{fmt::format("{}: cannot read: {}", path, std::strerror(errno))};
  auto t = parse_table_estimator(text.str(), path, resolve);
  if (!t) return t.error();
  return std::unique_ptr<Estimator>(std::move(*t));
}

}  // namespace hwnas::search
