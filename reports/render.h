// The whole report: one self-contained HTML page (inline CSS and SVG, a small inline script that
// sorts tables; no external fonts, scripts, images or URLs) and the tables of every section for the
// JSON/CSV twins (`hwnas report --format json|csv`).
#pragma once

#include <string>
#include <vector>

#include "reports/report.h"
#include "reports/sections.h"
#include "reports/table.h"

namespace hwnas::reports {

struct Rendered {
  std::string html;
  std::vector<std::string> sections;  // ids of the sections shown, in order
  std::vector<Table> tables;          // every table of every section shown
};

Rendered render(const ReportData& d, const RenderOptions& o = {});

}  // namespace hwnas::reports
