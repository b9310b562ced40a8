#include "cli/table.h"

#include <algorithm>

#include <fmt/format.h>

namespace hwnas::cli {

void Table::print(std::FILE* out) const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].title.size();
  for (const auto& row : rows_)
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string s;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = c < cells.size() ? cells[c] : std::string();
      const bool left = header ? columns_[c].align == Align::left : columns_[c].align == Align::left;
      s += left ? fmt::format("{:<{}}", cell, width[c]) : fmt::format("{:>{}}", cell, width[c]);
      if (c + 1 < columns_.size()) s += "  ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    fmt::print(out, "{}\n", s);
  };
  std::size_t total = 0;
  for (auto w : width) total += w + 2;
  const std::string rule(total > 2 ? total - 2 : 0, '-');
  std::vector<std::string> titles;
  for (const auto& col : columns_) titles.push_back(col.title);
  line(titles, true);
  fmt::print(out, "{}\n", rule);
  for (const auto& row : rows_) {
    if (row.empty()) {
      fmt::print(out, "{}\n", rule);
    } else {
      line(row, false);
    }
  }
}

}  // namespace hwnas::cli
