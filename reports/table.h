// A report table: what the HTML page shows (sortable) and what its JSON and CSV twins hold. Cells
// keep the number beside its text, so sorting and the twins use full precision, not the rounding.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hwnas::reports {

struct Cell {
  std::string text;             // as shown
  std::optional<double> value;  // numeric cells: sort key and the value of the twins
  std::string css;              // class: "good", "bad", "warn", "muted" or ""
  std::string hover;            // title attribute

  static Cell num(double v, std::string text, std::string css = {});
  static Cell str(std::string text, std::string css = {});
  static Cell none();  // no value: "–", empty in the twins
};

struct Table {
  Table() = default;
  Table(std::string id_, std::string title_, std::vector<std::string> columns_)
      : id(std::move(id_)), title(std::move(title_)), columns(std::move(columns_)) {}

  std::string id;     // file-name safe: comparison, cost_model_metrics …
  std::string title;  // shown above it
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
  std::string note;       // shown below (e.g. "first 200 of 3,000 rows shown")
  std::size_t shown = 0;  // rows the HTML shows (0: all); the twins hold every row
};

std::string to_html(const Table& t);
std::string to_csv(const Table& t);  // RFC 4180, header row; numbers at full precision
// {"id", "title", "columns": [...], "rows": [{column: value}, ...]}; numbers as numbers.
std::string to_json_text(const std::vector<Table>& tables);

}  // namespace hwnas::reports
