// The report's sections, one file each. A section returns nothing when the data it needs is not
// there (the page then leaves it out); its tables travel with it so the twins match the page.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/report.h"
#include "reports/table.h"

namespace hwnas::reports {

struct RenderOptions {
  std::size_t max_points = 1500;  // per scatter: more are thinned (fronts, measured points and the best kept)
  std::size_t max_rows = 250;     // per HTML table: the twins hold every row
  std::size_t max_bars = 40;      // breakdown bars and diagrams
};

struct Section {
  std::string id, title;
  std::string html;  // the body (charts, tables, notes), without the heading
  std::vector<Table> tables;
};

std::optional<Section> summary_section(const ReportData& d, const RenderOptions& o);
std::optional<Section> comparison_section(const ReportData& d, const RenderOptions& o);
std::optional<Section> pareto_section(const ReportData& d, const RenderOptions& o);
std::optional<Section> breakdown_section(const ReportData& d, const RenderOptions& o);
std::optional<Section> diagram_section(const ReportData& d, const RenderOptions& o);
std::optional<Section> accuracy_section(const ReportData& d, const RenderOptions& o);
std::optional<Section> progress_section(const ReportData& d, const RenderOptions& o);
std::optional<Section> cross_device_section(const ReportData& d, const RenderOptions& o);
std::optional<Section> compress_section(const ReportData& d, const RenderOptions& o);

// Shared by the sections: a table's HTML with its title, capped at o.max_rows.
std::string table_block(Table& t, const RenderOptions& o);

}  // namespace hwnas::reports
