#include "cli/search_progress.h"

#include <cmath>

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/command.h"

namespace hwnas::cli {
namespace {

std::string clock_text(double s) {
  const auto total = static_cast<long>(std::max(s, 0.0) + 0.5);
  return fmt::format("{}:{:02d}", total / 60, total % 60);
}

std::string opt_score(const std::optional<double>& s) {
  return s ? fmt::format("{:.4g}", *s) : "-";
}

}  // namespace

// One device's figures of a candidate.
nlohmann::json on_device(const search::OnDevice& d, double margin) {
  nlohmann::json j = {{"predicted_ms", d.predicted_ms},
                      {"believed_ms", d.believed_ms(margin)},
                      {"measured_ms", d.measured ? nlohmann::json(d.measured->ms) : nlohmann::json()}};
  if (d.measured && d.measured->noisy) j["noisy"] = true;
  return j;
}

nlohmann::json candidate_objectives(const search::Record& r, const std::vector<double>& margins,
                                    const std::vector<std::string>& names) {
  nlohmann::json j = on_device(r.on.at(0), margins.at(0));
  j["generation"] = r.generation;
  j["score"] = r.score ? nlohmann::json(*r.score) : nlohmann::json();
  if (r.on.size() > 1) {
    nlohmann::json devices = nlohmann::json::array();
    for (std::size_t d = 0; d < r.on.size(); ++d) {
      nlohmann::json one = on_device(r.on[d], margins.at(d));
      one["name"] = names.at(d);
      devices.push_back(std::move(one));
    }
    j["devices"] = std::move(devices);
  }
  if (!r.score_error.empty()) j["score_error"] = r.score_error;
  if (!r.measure_error.empty()) j["measure_error"] = r.measure_error;
  return j;
}

std::string margins_text(const std::vector<double>& margins, const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t d = 0; d < margins.size(); ++d)
    out += fmt::format("{}{:.1f}%{}", d == 0 ? "" : ", ", 100 * margins[d],
                       margins.size() > 1 ? " on " + names.at(d) : "");
  return out;
}

SearchReporter::SearchReporter(store::Store& db, std::string run_id, ProgressMode mode, std::string score_name,
                               std::vector<std::string> devices)
    : db_(db),
      run_id_(std::move(run_id)),
      mode_(mode),
      score_name_(std::move(score_name)),
      devices_(std::move(devices)) {}

void SearchReporter::on_generation(const search::Progress& p, std::span<const search::Record> recs,
                                   std::span<const std::size_t> changed) {
  last_ = p;
  std::vector<store::CandidateRecord> rows;
  rows.reserve(changed.size());
  for (std::size_t i : changed) {
    const search::Record& r = recs[i];
    store::CandidateRecord c;
    c.run_id = run_id_;
    c.idx = static_cast<std::int64_t>(r.index);
    c.arch_hash = r.hash;
    c.genome_json = nlohmann::json(r.candidate.genome).dump();
    c.objectives_json = candidate_objectives(r, p.margins, devices_).dump();
    c.measured = r.measured_all();
    rows.push_back(std::move(c));
  }
  if (!rows.empty()) {
    auto put = db_.put_candidates(rows);
    if (!put) throw RuntimeFailure(put.error().message);
  }
  draw(p);
}

void SearchReporter::draw(const search::Progress& p) {
  if (mode_ == ProgressMode::quiet) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double done = static_cast<double>(p.evaluations) / static_cast<double>(std::max<std::size_t>(p.total, 1));
  const double per_measure = measured_ > 0 ? measure_s_ / static_cast<double>(measured_) : 2.0;
  const double screening = elapsed - measure_s_;
  const double eta = (done > 0 ? screening / done * (1 - done) : 0) +
                     (done >= 1 ? 0 : static_cast<double>(final_planned_ ? 0 : 9) * per_measure);
  const std::string text = fmt::format(
      "{}/{} evaluated, gen {}, {} within budget, {} measured, best {} {} (measured) / {} (predicted), "
      "hypervolume {:.4g}, margin {}",
      p.evaluations, p.total, p.generation, p.within_budget, p.measurements, score_name_, opt_score(p.best_score),
      opt_score(p.best_believed_score), p.hypervolume, margins_text(p.margins, devices_));
  if (mode_ == ProgressMode::bar) {
    constexpr int kWidth = 20;
    const int fill = static_cast<int>(std::lround(done * kWidth));
    std::string line = fmt::format(
        "[{}{}] {}/{} {} ETA {} | best {} {} measured, {} predicted | HV {:.4g} | {} measured",
        std::string(static_cast<std::size_t>(fill), '#'), std::string(static_cast<std::size_t>(kWidth - fill), '.'),
        p.evaluations, p.total, clock_text(elapsed), clock_text(eta), score_name_, opt_score(p.best_score),
        opt_score(p.best_believed_score), p.hypervolume, p.measurements);
    // One terminal line, or \r cannot redraw it.
    winsize ws{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 && line.size() >= ws.ws_col)
      line.resize(ws.ws_col - 1);
    fmt::print(stderr, "\r\033[K{}", line);
    std::fflush(stderr);
    bar_drawn_ = true;
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_line_ < std::chrono::seconds(5) && p.evaluations < p.total) return;
  last_line_ = now;
  fmt::print(stderr, "search: {} elapsed, ETA {}: {}\n", clock_text(elapsed), clock_text(eta), text);
  std::fflush(stderr);
}

void SearchReporter::say(const std::string& line) {
  if (mode_ == ProgressMode::quiet) return;
  if (bar_drawn_) fmt::print(stderr, "\r\033[K");
  fmt::print(stderr, "search: {}\n", line);
  std::fflush(stderr);
  if (bar_drawn_) draw(last_);
}

void SearchReporter::on_scored(const search::Record& r) {
  if (!r.score_error.empty()) say(fmt::format("{}: no {} score: {}", r.hash, score_name_, r.score_error));
}

void SearchReporter::on_measuring(const search::Record& r, std::string_view why) {
  measure_start_ = std::chrono::steady_clock::now();
  if (mode_ == ProgressMode::bar) {
    std::string predicted;
    for (std::size_t d = 0; d < r.on.size(); ++d)
      predicted += fmt::format("{}{:.4g} ms{}", d == 0 ? "" : ", ", r.on[d].predicted_ms,
                               r.on.size() > 1 ? " on " + devices_.at(d) : "");
    fmt::print(stderr, "\r\033[Kmeasuring {} ({}; predicted {})...", r.hash, why, predicted);
    std::fflush(stderr);
  }
}

void SearchReporter::on_measured(const search::Record& r) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - measure_start_).count();
  bool fresh = false;
  std::string figures;
  for (std::size_t d = 0; d < r.on.size(); ++d) {
    const search::OnDevice& on = r.on[d];
    const std::string where = r.on.size() > 1 ? devices_.at(d) + " " : "";
    if (!on.measured) {
      if (r.on.size() > 1 && r.measure_error.empty())
        figures += fmt::format("{}{}not measured", d == 0 ? "" : ", ", where);
      continue;
    }
    fresh = fresh || !on.measured->cached;
    figures += fmt::format("{}{}{} {:.4g} ms (predicted {:.4g}, {:+.1f}%){}", figures.empty() ? "" : ", ", where,
                           on.measured->cached ? "stored:" : "measured", on.measured->ms, on.predicted_ms,
                           100 * (on.predicted_ms / on.measured->ms - 1), on.measured->noisy ? ", noisy" : "");
  }
  if (fresh) {
    measure_s_ += s;
    ++measured_;
  }
  if (!r.measure_error.empty()) {
    say(fmt::format("{}: cannot measure: {}{}", r.hash, r.measure_error, figures.empty() ? "" : "; " + figures));
    return;
  }
  say(fmt::format("{} {}{}{}", r.hash, figures, fresh ? fmt::format(" in {:.1f} s", s) : "",
                  r.score ? fmt::format(", {} {:.4g}", score_name_, *r.score) : ""));
}

void SearchReporter::on_final(std::size_t planned) {
  final_planned_ = planned;
  say(fmt::format("screening done; measuring up to {} finalists (top by {}, points of the predicted front)", planned,
                  score_name_));
}

void SearchReporter::finish() {
  if (bar_drawn_ && mode_ == ProgressMode::bar) fmt::print(stderr, "\r\033[K");
  bar_drawn_ = false;
}

}  // namespace hwnas::cli
