// What a report shows, as plain structs (DESIGN.md: reports depend on plain structs only). The CLI
// fills them from the store (cli/report_data.cc); reports/render.h turns them into one
// self-contained HTML page and the JSON/CSV twins of its tables. Every field is optional in spirit:
// a section is drawn only when the data it needs is there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "space/arch.h"

namespace hwnas::reports {

struct Device {
  std::string fingerprint;
  std::string kind;  // cpu, cuda
  std::string model, isa, engine, driver;
  int cores = 0, threads = 0;
  bool bf16_native = false;
  double peak_f32_gflops = 0, peak_bf16_gflops = 0, triad_gbs = 0;  // 0: not measured
  std::string first_seen, last_seen;
};

// A configuration measurements and predictions are keyed by (beyond the architecture).
struct Setting {
  std::size_t device = 0;  // index into ReportData::devices
  std::string backend;     // onednn, cuda, cuda-graph, fake
  std::int64_t batch = 1;
  std::string dtype = "f32";
  int threads = 0;
  std::string protocol = "default";
};

struct Latency {
  std::size_t setting = 0;  // index into ReportData::settings
  double median_ms = 0;     // the protocol's figure
  double p90_ms = 0;
  bool noisy = false;
  std::string measured_at;
  std::optional<double> predicted_ms;  // the cost model of this setting, where one is stored
};

// One unit of a network measured alone (stem, downsample, block, head).
struct UnitTime {
  std::string label;   // stage1.block0
  std::string kind;    // stem, downsample, block, head
  std::string mixer;   // blocks: the mixer's kind (msa, hilo, none …)
  std::string detail;  // blocks: "hilo(a=0.9,s=2) + convffn(384)"
  double ms = 0;
};

struct Breakdown {
  std::size_t setting = 0;
  double end_to_end_ms = 0;  // the network measured whole, same setting
  std::vector<UnitTime> units;
};

struct ArchEntry {
  std::string hash, name;
  std::string origin;  // "preset", "best of search 3f2a…", "file my.json", "measured"
  bool is_preset = false;
  std::optional<space::Arch> arch;    // for the diagram (absent when it could not be rebuilt)
  std::int64_t params = 0, macs = 0;  // per image
  std::vector<Latency> latencies;     // one per setting it was measured in
  std::optional<double> score;        // accuracy estimate (the search's objective or published top-1)
  std::string score_name;
  std::vector<Breakdown> breakdowns;  // per setting with units measured
};

struct SearchPoint {
  std::size_t index = 0;            // order of evaluation
  double latency_ms = 0;            // measured, else believed (prediction × (1 + margin)); on the first device
  std::vector<double> more_ms;      // the same on the run's other devices (a search over several)
  std::vector<bool> more_measured;  // which of them were measured
  bool measured = false;            // on every device
  std::optional<double> score;
  bool front = false;  // on the run's front (measured front when any point was measured within budget)
  bool best = false;
  std::string hash;
};

struct ProgressPoint {
  std::size_t evaluations = 0;       // distinct candidates so far
  std::optional<double> best_score;  // believed within budget
  double hypervolume = 0;            // of the believed front so far
};

struct PresetPoint {
  std::string name;
  double latency_ms = 0;
  std::optional<double> score;
};

struct SearchRun {
  std::string id, status, created_at, updated_at;
  std::string space, objective, strategy, device, backend, dtype, budget_from;
  std::int64_t batch = 1;
  int threads = 0;
  std::uint64_t seed = 0;
  std::size_t evaluations = 0;  // asked of the strategy
  double budget_ms = 0;         // the first device's
  // A search over several devices: each one's name (as --device gave it), fingerprint and budget;
  // empty for a run on one device.
  struct Target {
    std::string name, device;
    double budget_ms = 0;
    std::string label() const { return name.empty() ? "cpu" : name; }  // "" = the default device
  };
  std::vector<Target> targets;
  double score_reference = 0;
  std::optional<std::string> best_hash;
  std::vector<SearchPoint> points;  // every distinct candidate
  std::vector<ProgressPoint> progress;
  std::vector<PresetPoint> presets;  // the presets the run compared against
};

struct Metrics {
  std::string name;  // "cost model", "MACs × constant", "sum of blocks"
  std::size_t n = 0;
  double mape = 0, rmspe = 0, within5 = 0, within10 = 0, kendall_tau = 0, spearman_rho = 0;
};

struct ModelAccuracy {
  std::string title;  // "cost model v3 (roofline) — cpu … b1 f32 2t"
  std::string created_at;
  struct Row {
    std::string hash, name;
    double measured_ms = 0, predicted_ms = 0;
  };
  std::vector<Row> rows;  // held-out archs
  std::vector<Metrics> metrics;
  std::int64_t measurements = 0;
  double calibration_min = 0;
};

// One `hwnas compress` run: what was changed in each block, the distance against latency along the
// way, and the result measured.
struct CompressBlock {
  std::string label;                   // "stages.0.blocks.3"
  std::string before, after;           // "msa/mlp(1536)" → "bconv3x3/mlp(768)", "skip/none" …
  int mixer_step = 0, ffn_step = 0;    // FinerCut: the removal step (1-based) of its mixer / FFN; 0: kept
  double ffn_kept = 1;                 // share of the FFN's width kept (0: removed)
  std::string mixer_after, ffn_after;  // kinds after: "msa", "bconv", "skip" …; "mlp", "none" …
};

struct CompressPoint {
  double latency_ms = 0;  // predicted (measured when `measured`)
  double distance = 0;
  bool measured = false;
  std::string role;  // "step" (FinerCut's order), "front" (SPViT's predicted front), "finalist", "chosen", "original"
  std::string hover;
};

struct CompressRun {
  std::string id, method, created_at, device, metric;
  std::string original, result;  // names (or hashes)
  std::int64_t batch = 1;
  int threads = 0;
  double budget_ms = 0;                   // 0: none (a ratio)
  double original_ms = 0, result_ms = 0;  // measured
  double distance = 0;                    // of the result
  std::vector<CompressBlock> blocks;
  std::vector<CompressPoint> points;
  std::string note;  // method-specific figures ("1,296 candidates predicted; proxy vs true Spearman 0.82")
};

struct ReportData {
  std::string title = "hwnas report";
  std::string generated_at, tool_version, source;             // source: the store file
  std::vector<std::pair<std::string, std::string>> versions;  // library → version
  std::vector<Device> devices;
  std::vector<Setting> settings;
  std::vector<ArchEntry> archs;
  std::vector<SearchRun> runs;
  std::vector<ModelAccuracy> models;
  std::vector<CompressRun> compress_runs;
};

// Labels used in tables, legends and file names.
std::string device_label(const ReportData& d, std::size_t device);
std::string setting_label(const ReportData& d, std::size_t setting);
std::string arch_label(const ArchEntry& a);  // name, else the hash's first 8 digits

}  // namespace hwnas::reports
