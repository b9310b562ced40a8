// Section 1: what was measured where, with which tools, and what the searches asked.
#include <fmt/format.h>

#include "reports/html.h"
#include "reports/sections.h"

namespace hwnas::reports {

std::optional<Section> summary_section(const ReportData& d, const RenderOptions& o) {
  if (d.devices.empty() && d.runs.empty() && d.archs.empty()) return std::nullopt;
  Section s{"summary", "Summary", {}, {}};
  s.html += "<dl class=\"kv\">";
  auto kv = [&](const std::string& k, const std::string& v) {
    s.html += "<dt>" + escape(k) + "</dt><dd>" + escape(v) + "</dd>";
  };
  kv("store", d.source);
  kv("generated", d.generated_at);
  kv("hwnas", d.tool_version);
  for (const auto& [lib, version] : d.versions) kv(lib, version);
  kv("contents", fmt::format("{} device(s), {} architecture(s), {} search run(s), {} cost model(s)", d.devices.size(),
                             d.archs.size(), d.runs.size(), d.models.size()));
  s.html += "</dl>\n";

  if (!d.devices.empty()) {
    Table t{"devices",
            "Devices",
            {"device", "fingerprint", "kind", "cores", "threads", "ISA", "engine", "driver", "peak f32 GFLOP/s",
             "peak bf16 GFLOP/s", "bandwidth GB/s", "first seen", "last seen"}};
    auto peak = [](double v) { return v > 0 ? Cell::num(v, fmt_sig(v)) : Cell::none(); };
    for (std::size_t i = 0; i < d.devices.size(); ++i) {
      const Device& dev = d.devices[i];
      t.rows.push_back(
          {Cell::str(device_label(d, i)), Cell::str(dev.fingerprint), Cell::str(dev.kind),
           Cell::num(dev.cores, std::to_string(dev.cores)), Cell::num(dev.threads, std::to_string(dev.threads)),
           Cell::str(dev.isa + (dev.bf16_native ? " (bf16)" : "")), Cell::str(dev.engine),
           dev.driver.empty() ? Cell::none() : Cell::str(dev.driver), peak(dev.peak_f32_gflops),
           peak(dev.peak_bf16_gflops), peak(dev.triad_gbs), Cell::str(dev.first_seen), Cell::str(dev.last_seen)});
    }
    t.note = "Peaks are the best GEMM throughput and triad bandwidth measured on the device (hwnas device).";
    s.html += table_block(t, o);
    s.tables.push_back(std::move(t));
  }
  if (!d.runs.empty()) {
    Table t{"searches",
            "Questions asked (search runs)",
            {"run", "status", "space", "objective", "strategy", "budget ms", "budget from", "setting", "evaluations",
             "seed", "candidates", "measured", "best", "started", "updated"}};
    for (const SearchRun& r : d.runs) {
      std::size_t measured = 0;
      for (const SearchPoint& p : r.points) measured += p.measured ? 1 : 0;
      t.rows.push_back(
          {Cell::str(r.id), Cell::str(r.status, r.status == "done" ? "" : "warn"), Cell::str(r.space),
           Cell::str(r.objective), Cell::str(r.strategy), Cell::num(r.budget_ms, fmt_sig(r.budget_ms, 4)),
           Cell::str(r.budget_from.empty() ? "--budget-ms" : r.budget_from),
           Cell::str(fmt::format("{} · {} · b{} {} {}t", r.device, r.backend, r.batch, r.dtype, r.threads)),
           Cell::num(static_cast<double>(r.evaluations), fmt_int(static_cast<long long>(r.evaluations))),
           Cell::num(static_cast<double>(r.seed), std::to_string(r.seed)),
           Cell::num(static_cast<double>(r.points.size()), fmt_int(static_cast<long long>(r.points.size()))),
           Cell::num(static_cast<double>(measured), std::to_string(measured)),
           r.best_hash ? Cell::str(*r.best_hash) : Cell::none(), Cell::str(r.created_at), Cell::str(r.updated_at)});
    }
    s.html += table_block(t, o);
    s.tables.push_back(std::move(t));
  }
  return s;
}

}  // namespace hwnas::reports
