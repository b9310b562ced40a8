// The store's records: plain structs, one per table (store/SCHEMA.md). They mirror the profiler's
// types field by field (prof::DeviceInfo, prof::Measurement) without depending on them; the CLI
// converts. Enumerations that the profiler owns (backend, dtype, protocol) are kept as their names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hwnas::store {

// ---- devices ------------------------------------------------------------------------------------

// prof::DeviceInfo plus when the store first and last saw it.
struct DeviceRecord {
  std::string fingerprint;   // prof::DeviceInfo::fingerprint(): the key
  std::string kind = "cpu";  // "cpu" or "cuda"
  std::string model;
  int cores = 0;
  int threads = 0;
  std::string isa;
  bool bf16_native = false;
  std::string engine;  // library versions as the backend reports them
  std::string driver;  // GPU driver version; "" on a CPU
  double peak_f32_gflops = 0;
  double peak_bf16_gflops = 0;
  double triad_gbs = 0;
  std::string first_seen;  // set by the store
  std::string last_seen;   // set by the store on every put_device
};

// ---- architectures ------------------------------------------------------------------------------

struct ArchRecord {
  std::string hash;       // space::hash_hex(space::arch_hash(arch)): 16 lowercase hex digits
  std::string canonical;  // space::canonical_text(arch)
  std::string name;       // preset or meta name; may be ""
  std::int64_t macs = 0;  // per image
  std::int64_t params = 0;
  std::string created_at;  // set by the store
};

// ---- measurements -------------------------------------------------------------------------------

// What was measured: a whole network, one unit of it (stem, downsample, block, head) or one engine
// step. Units and steps are the cost model's training data.
enum class SubjectKind : std::uint8_t { network, unit, step };
std::string_view name_of(SubjectKind k);
std::optional<SubjectKind> subject_kind_from(std::string_view s);

// The cache key: one stored measurement per key. Re-measuring replaces it (or is refused).
struct MeasurementKey {
  std::string subject_hash;  // the arch hash for a network; subject_hash(arch hash, label) otherwise
  std::string device;        // DeviceRecord::fingerprint
  std::string backend;       // "onednn", "cuda", "fake"
  std::int64_t batch = 1;
  std::string dtype = "f32";         // prof::name_of(DType)
  int threads = 0;                   // threads the backend ran with
  std::string protocol = "default";  // prof::name_of(Protocol)

  bool operator==(const MeasurementKey&) const = default;
};

// prof::Measurement, field by field.
struct Figures {
  double figure_us = 0;  // what the protocol reports: the median, or HAT's trimmed mean
  double median_us = 0, min_us = 0, p10_us = 0, p90_us = 0, p99_us = 0, mean_us = 0;
  double ci_low_us = 0, ci_high_us = 0;
  double cv = 0;
  std::int64_t n = 0;
  std::int64_t calls_per_sample = 1;
  std::int64_t warmup_runs = 0;
  double elapsed_ms = 0;
  bool noisy = false;
  std::string noise_reason;
  std::vector<double> samples_us;  // stored as a BLOB of little-endian float64

  bool operator==(const Figures&) const = default;
};

struct MeasurementRecord {
  std::int64_t id = 0;  // the store's row id (not part of exports)
  SubjectKind kind = SubjectKind::network;
  MeasurementKey key;
  std::string arch_hash;           // the network measured, or the one the unit/step belongs to
  std::string label;               // unit or step label ("stage1.block0"); "" for a network
  std::string unit_kind;           // stem, downsample, block, head for a unit; the step's kind; "" for a network
  int position = -1;               // unit or step index within the network, for ordering; -1 for a network
  std::string detail_json = "{}";  // a JSON object: what the subject is (mixer, ffn, tokens, dim, macs, impl …)
  Figures figures;
  std::string created_at;    // "" → now (UTC); kept as given otherwise (imports)
  std::string tool_version;  // "" → the store's tool version
};

// A stored measurement and how old it is.
struct CachedMeasurement {
  MeasurementRecord record;
  double age_s = 0;
};

// The subject hash of a unit or step of `arch_hash`: hash64("<arch_hash>/<label>") as 16 hex digits.
std::string subject_hash(std::string_view arch_hash, std::string_view label);

// ---- cost models --------------------------------------------------------------------------------

struct CostModelKey {
  std::string device;
  std::string backend;
  std::int64_t batch = 1;
  std::string dtype = "f32";
  int threads = 0;
  std::string kind;  // the model family ("roofline", "gbdt" …)
  int version = 0;   // 0 in a lookup: the highest stored version

  bool operator==(const CostModelKey&) const = default;
};

struct CostModelRecord {
  std::int64_t id = 0;  // row id (not part of exports)
  CostModelKey key;
  std::string model_json = "{}";  // the fitted model, a JSON object
  std::string created_at;
};

// ---- search runs --------------------------------------------------------------------------------

enum class SearchStatus : std::uint8_t { running, done, failed, stopped };
std::string_view name_of(SearchStatus s);
std::optional<SearchStatus> search_status_from(std::string_view s);

struct SearchRunRecord {
  std::string id;  // new_search_run_id(): unique across machines, so runs can be pooled
  std::string config_json = "{}";
  SearchStatus status = SearchStatus::running;
  std::string created_at;  // set by the store on the first put
  std::string updated_at;  // set by the store on every put
};

struct CandidateRecord {
  std::string run_id;
  std::int64_t idx = 0;  // order of evaluation within the run
  std::string arch_hash;
  std::string genome_json = "{}";
  std::string objectives_json = "{}";
  bool measured = false;  // measured for real (else predicted by the cost model)
  std::string created_at;
};

// 16 random hex digits.
std::string new_search_run_id();

// ---- objective values ---------------------------------------------------------------------------

// One estimator's result for one arch (search::CachedEstimate, field by field), failures too: a
// resumed search neither re-runs a slow estimate nor retries one that failed.
struct ObjectiveValueRecord {
  std::string objective;  // the estimator's cache_key ("cmd:python eval.py", "table:<hash>")
  std::string arch_hash;  // space::hash_hex(space::arch_hash(arch))
  bool ok = false;
  double value = 0;          // finite; 0 when !ok
  std::string message;       // why it failed ("" when ok)
  double elapsed_ms = 0;     // what the estimate cost
  std::string created_at;    // "" → now (UTC); kept as given otherwise (imports)
  std::string tool_version;  // "" → the store's tool version
};

// ---- compression runs ---------------------------------------------------------------------------

// One `hwnas compress` run: the original, the compressed result, the device that timed it, and the
// whole record (removal order or per-layer choices, distances, predicted and measured latencies).
struct CompressRunRecord {
  std::string id;           // new_search_run_id()
  std::string method;       // "finercut-greedy", "finercut-latency", "spvit", "spvit-to", …
  std::string arch_hash;    // the original (stored in archs)
  std::string result_hash;  // the compressed network (stored in archs)
  std::string device;       // fingerprint (stored in devices)
  std::string record_json = "{}";
  std::string created_at;    // "" → now (UTC); kept as given otherwise (imports)
  std::string tool_version;  // "" → the store's tool version
};

// ---- writing ------------------------------------------------------------------------------------

// What a put does when a row with the same key is already stored.
enum class OnConflict : std::uint8_t {
  replace,  // overwrite it (re-measured)
  skip,     // keep it (imports)
  fail,     // an Error naming the key
};

struct PutOutcome {
  enum class What : std::uint8_t { inserted, replaced, skipped };
  std::int64_t id = 0;  // row id of the stored row
  What what = What::inserted;
};

}  // namespace hwnas::store
