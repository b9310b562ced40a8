#include "cli/report_compress.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "compress/spvit.h"
#include "space/arch_json.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

std::optional<space::Arch> stored_arch(store::Store& db, const std::string& hash) {
  auto rec = db.find_arch(hash);
  if (!rec) throw RuntimeFailure(rec.error().message);
  if (!*rec) return std::nullopt;
  auto a = space::parse_arch((*rec)->canonical, "store arch " + hash);
  if (!a) return std::nullopt;
  a->meta.name = (*rec)->name;
  return std::move(a).value();
}

double num(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

std::string kind_of(const std::string& choice) {  // "bconv3x3/mlp(768)" → "bconv"
  std::string m = choice.substr(0, choice.find('/'));
  return m.rfind("bconv", 0) == 0 ? "bconv" : m;
}

void add_blocks(reports::CompressRun& r, const space::Arch& original, const space::Arch& result) {
  const std::vector<std::string> before = compress::block_choices(original), after = compress::block_choices(result);
  std::size_t i = 0;
  for (std::size_t s = 0; s < original.stages.size() && s < result.stages.size(); ++s)
    for (std::size_t b = 0; b < original.stages[s].blocks.size() && b < result.stages[s].blocks.size(); ++b, ++i) {
      const space::Block &ob = original.stages[s].blocks[b], &rb = result.stages[s].blocks[b];
      reports::CompressBlock cb;
      cb.label = fmt::format("stages.{}.blocks.{}", s, b);
      cb.before = before[i];
      cb.after = after[i];
      cb.mixer_after = kind_of(after[i]);
      cb.ffn_after = std::string(space::name_of(rb.ffn.kind));
      cb.ffn_kept = rb.ffn.kind == space::FfnKind::none || ob.ffn.hidden <= 0
                        ? 0.0
                        : static_cast<double>(rb.ffn.hidden) / static_cast<double>(ob.ffn.hidden);
      r.blocks.push_back(std::move(cb));
    }
}

// The diagram's step number of a FinerCut sublayer ("stages.0.blocks.3.attn"; 0: kept).
void set_step(std::vector<reports::CompressBlock>& blocks, const std::string& sublayer, int step) {
  for (reports::CompressBlock& b : blocks) {
    if (sublayer == b.label + ".attn") b.mixer_step = step;
    if (sublayer == b.label + ".mlp") b.ffn_step = step;
  }
}

void add_finercut(reports::CompressRun& r, const json& rec) {
  r.points.push_back({num(rec, "original_predicted_ms"), 0.0, false, "original", "the original (predicted)"});
  const json steps = rec.value("steps", json::array());
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const json& st = steps[k];
    const std::string removed = st.value("removed", "");
    const double d = num(st, "distance");
    r.points.push_back({num(st, "predicted_ms"), d, false, "step",
                        fmt::format("step {}: {} removed, distance {:.4g}", k + 1, removed, d)});
    if (num(st, "measured_ms") > 0)
      r.points.push_back({num(st, "measured_ms"), d, true, "finalist", fmt::format("step {} measured", k + 1)});
    set_step(r.blocks, removed, static_cast<int>(k + 1));
    r.distance = d;
  }
  // Exchanges after the path (compress/finercut.h): a sublayer put back, another removed instead;
  // the diagram numbers those removals after the path's steps.
  const json exchanges = rec.value("exchanges", json::array());
  for (std::size_t k = 0; k < exchanges.size(); ++k) {
    const json& x = exchanges[k];
    const std::string restored = x.value("restored", ""), removed = x.value("removed", "");
    const double d = num(x, "distance");
    const int step = static_cast<int>(steps.size() + k + 1);
    r.points.push_back({num(x, "predicted_ms"), d, false, "step",
                        fmt::format("exchange {}: {} put back{}, distance {:.4g}", k + 1, restored,
                                    removed.empty() ? "" : ", " + removed + " removed", d)});
    if (num(x, "measured_ms") > 0)
      r.points.push_back({num(x, "measured_ms"), d, true, "finalist", fmt::format("exchange {} measured", k + 1)});
    set_step(r.blocks, restored, 0);
    set_step(r.blocks, removed, step);
    r.distance = d;
  }
  r.note = fmt::format(
      "{} of {} sublayers removed, {} networks evaluated{}.",
      rec.contains("removed") ? rec["removed"].size() : steps.size(), rec.value("candidates", std::size_t{0}),
      rec.value("evaluations", std::size_t{0}),
      exchanges.empty() ? ""
                        : fmt::format("; the path's {} removals, then {} exchange(s)", steps.size(), exchanges.size()));
}

void add_spvit(reports::CompressRun& r, const json& rec) {
  const json search = rec.value("search", json::object());
  const json points = search.value("points", json::array());
  const int chosen = search.value("chosen", -1);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const json& p = points[i];
    const std::string blocks = fmt::format("{}", fmt::join(p.value("blocks", std::vector<std::string>{}), " "));
    if (p.value("on_front", false))
      r.points.push_back({num(p, "predicted_ms"), num(p, "proxy_distance"), false, "front",
                          fmt::format("predicted distance {:.4g}: {}", num(p, "proxy_distance"), blocks)});
    if (p.contains("distance"))
      r.points.push_back({num(p, "predicted_ms"), num(p, "distance"), false, "finalist",
                          fmt::format("distance {:.4g} (predicted {:.4g}): {}", num(p, "distance"),
                                      num(p, "proxy_distance"), blocks)});
    if (num(p, "measured_ms") > 0)
      r.points.push_back({num(p, "measured_ms"), num(p, "distance"), true,
                          static_cast<int>(i) == chosen ? "chosen" : "finalist",
                          fmt::format("measured {:.3f} ms{}", num(p, "measured_ms"),
                                      static_cast<int>(i) == chosen ? " (chosen)" : "")});
    if (static_cast<int>(i) == chosen) r.distance = num(p, "distance");
  }
  const std::size_t singles = search.value("sensitivity", json::array()).size(),
                    runs = search.value("runs", std::size_t{0});
  r.note = fmt::format(
      "{} single changes and {} finalists run, {} candidates predicted in {} round(s); predicted vs true distance "
      "over the finalists: Spearman {:.2f}; latency correction {:.3f}.",
      singles, runs > singles ? runs - singles : 0, search.value("proxy_evaluations", std::size_t{0}),
      search.value("rounds", 0), num(search, "proxy_spearman"),
      search.contains("latency_correction") ? num(search, "latency_correction") : 1.0);
}

reports::CompressRun compress_run(store::Store& db, const store::CompressRunRecord& rec, const std::string& device) {
  const json j = json::parse(rec.record_json);
  reports::CompressRun r;
  r.id = rec.id;
  r.method = rec.method;
  r.created_at = rec.created_at;
  r.device = device;
  r.metric = j.value("distance", "");
  r.original = j.value("original_name", rec.arch_hash);
  r.result = j.value("result_name", rec.result_hash);
  r.batch = j.value("batch", std::int64_t{1});
  r.threads = j.value("threads", 0);
  r.budget_ms = num(j, "budget_ms");
  r.original_ms = num(j, "original_ms");
  r.result_ms = j.contains("pruned_ms") ? num(j, "pruned_ms") : num(j, "carved_ms");
  const auto original = stored_arch(db, rec.arch_hash), result = stored_arch(db, rec.result_hash);
  if (original && result) add_blocks(r, *original, *result);
  if (rec.method.rfind("finercut", 0) == 0) {
    add_finercut(r, j);
  } else if (rec.method == "spvit") {
    add_spvit(r, j);
  } else {
    r.distance = num(j, "result_distance");
    r.note = "Carved into given choices (--to), no search.";
  }
  r.points.push_back({r.original_ms, 0.0, true, "original", "the original, measured"});
  if (rec.method != "spvit") r.points.push_back({r.result_ms, r.distance, true, "chosen", "the result, measured"});
  return r;
}

}  // namespace

std::vector<reports::CompressRun> gather_compress_runs(store::Store& db, const std::vector<std::string>& ids,
                                                       const std::map<std::string, std::string>& device_names) {
  auto all = db.list_compress_runs();
  if (!all) throw RuntimeFailure(all.error().message);
  std::vector<store::CompressRunRecord> chosen;
  if (ids.empty()) {
    chosen = *all;
  } else {
    for (const std::string& want : ids) {
      std::vector<const store::CompressRunRecord*> hits;
      for (const auto& r : *all)
        if (r.id.rfind(want, 0) == 0) hits.push_back(&r);
      if (hits.size() != 1)
        throw UsageError(fmt::format("--compress-run {}: {} in {}", want,
                                     hits.empty() ? "no such compression run" : "ambiguous prefix", db.path()));
      chosen.push_back(*hits.front());
    }
  }
  std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
  std::vector<reports::CompressRun> out;
  for (const store::CompressRunRecord& rec : chosen) {
    const auto dev = device_names.find(rec.device);
    if (dev == device_names.end()) {
      if (!ids.empty())
        throw UsageError(fmt::format("--compress-run {}: its device {} is not in the selection", rec.id, rec.device));
      continue;
    }
    try {
      out.push_back(compress_run(db, rec, dev->second));
    } catch (const json::exception& e) {  // an imported record of another shape: said, left out
      fmt::print(stderr, "warning: compression run {}: unreadable record ({}); left out of the report\n", rec.id,
                 e.what());
    }
  }
  return out;
}

}  // namespace hwnas::cli
