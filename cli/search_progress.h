// What a running search shows and keeps: every changed candidate goes to the store (one transaction
// per generation, so a killed run loses at most the generation in flight); progress goes to stderr as
// a bar with ETA, best-so-far and hypervolume on a terminal, as plain lines otherwise, or not at all.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/driver.h"
#include "store/store.h"

namespace hwnas::cli {

enum class ProgressMode { bar, lines, quiet };

// The stored form of one candidate (search_candidates.objectives_json): the first device's figures,
// and with several devices each one's under "devices" (`names`: the devices' labels, in order).
nlohmann::json candidate_objectives(const search::Record& r, const std::vector<double>& margins,
                                    const std::vector<std::string>& names);

// "5.0%", or with several devices "5.0% on cpu, 7.1% on gpu" (`names`: the devices' labels).
std::string margins_text(const std::vector<double>& margins, const std::vector<std::string>& names);

class SearchReporter final : public search::SearchObserver {
 public:
  // `devices`: the labels of the search's devices, in order.
  SearchReporter(store::Store& db, std::string run_id, ProgressMode mode, std::string score_name,
                 std::vector<std::string> devices);

  void on_generation(const search::Progress& p, std::span<const search::Record> recs,
                     std::span<const std::size_t> changed) override;
  void on_scored(const search::Record& r) override;
  void on_measuring(const search::Record& r, std::string_view why) override;
  void on_measured(const search::Record& r) override;
  void on_final(std::size_t planned) override;
  // Ends the bar's line (before other output).
  void finish();

 private:
  void say(const std::string& line);
  void draw(const search::Progress& p);

  store::Store& db_;
  std::string run_id_;
  ProgressMode mode_;
  std::string score_name_;
  std::vector<std::string> devices_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_line_{};
  double measure_s_ = 0;  // time spent measuring, for the ETA
  std::size_t measured_ = 0;
  std::chrono::steady_clock::time_point measure_start_{};
  std::size_t final_planned_ = 0;
  bool bar_drawn_ = false;
  search::Progress last_{};
};

}  // namespace hwnas::cli
