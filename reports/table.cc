#include "reports/table.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "reports/html.h"

namespace hwnas::reports {

Cell Cell::num(double v, std::string text, std::string css) {
  return Cell{std::move(text), v, std::move(css), {}};
}
Cell Cell::str(std::string text, std::string css) {
  return Cell{std::move(text), std::nullopt, std::move(css), {}};
}
Cell Cell::none() {
  return Cell{"–", std::nullopt, "muted", {}};
}

namespace {

bool numeric_column(const Table& t, std::size_t c) {
  bool any = false;
  for (const auto& row : t.rows) {
    if (c >= row.size()) continue;
    if (row[c].value) {
      any = true;
    } else if (row[c].text != "–") {
      return false;
    }
  }
  return any;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string twin_text(const Cell& c) {
  if (c.value) return fmt::format("{}", *c.value);  // shortest round-trip form
  return c.text == "–" ? "" : c.text;
}

}  // namespace

std::string to_html(const Table& t) {
  std::string out = fmt::format("<table class=\"data sortable\" id=\"table-{}\">\n<thead><tr>", escape(t.id));
  for (std::size_t c = 0; c < t.columns.size(); ++c)
    out += fmt::format("<th data-type=\"{}\" title=\"click to sort\">{}</th>", numeric_column(t, c) ? "num" : "text",
                       escape(t.columns[c]));
  out += "</tr></thead>\n<tbody>\n";
  const std::size_t shown = t.shown == 0 ? t.rows.size() : std::min(t.shown, t.rows.size());
  for (std::size_t r = 0; r < shown; ++r) {
    out += "<tr>";
    for (const Cell& cell : t.rows[r]) {
      out += "<td";
      if (cell.value) out += fmt::format(" data-v=\"{}\"", *cell.value);
      if (!cell.css.empty()) out += fmt::format(" class=\"{}\"", escape(cell.css));
      if (!cell.hover.empty()) out += fmt::format(" title=\"{}\"", escape(cell.hover));
      out += '>';
      out += escape(cell.text);
      out += "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody></table>\n";
  std::string note = t.note;
  if (shown < t.rows.size())
    note = fmt::format("{} of {} rows shown; the JSON/CSV twins (--format) hold all of them.{}{}",
                       fmt_int(static_cast<long long>(shown)), fmt_int(static_cast<long long>(t.rows.size())),
                       note.empty() ? "" : " ", note);
  if (!note.empty()) out += "<p class=\"note\">" + escape(note) + "</p>\n";
  return out;
}

std::string to_csv(const Table& t) {
  std::string out;
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    if (c > 0) out += ',';
    out += csv_field(t.columns[c]);
  }
  out += "\r\n";
  for (const auto& row : t.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c > 0) out += ',';
      out += csv_field(twin_text(row[c]));
    }
    out += "\r\n";
  }
  return out;
}

std::string to_json_text(const std::vector<Table>& tables) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const Table& t : tables) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : t.rows) {
      nlohmann::ordered_json r = nlohmann::ordered_json::object();
      for (std::size_t c = 0; c < row.size() && c < t.columns.size(); ++c) {
        const Cell& cell = row[c];
        if (cell.value)
          r[t.columns[c]] = *cell.value;
        else if (cell.text == "–")
          r[t.columns[c]] = nullptr;
        else
          r[t.columns[c]] = cell.text;
      }
      rows.push_back(std::move(r));
    }
    all.push_back({{"id", t.id}, {"title", t.title}, {"columns", t.columns}, {"rows", std::move(rows)}});
  }
  return all.dump(2) + "\n";
}

}  // namespace hwnas::reports
