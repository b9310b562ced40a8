#include "cli/search_oracle.h"

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/farm.h"
#include "cli/store_records.h"
#include "profilers/profile.h"

namespace hwnas::cli {

SearchOracle::SearchOracle(prof::Backend& backend, store::Store& db, const CostKey& key, cost::Model model)
    : backend_(backend), db_(db), key_(key), model_(std::move(model)), correction_(model_) {}

std::optional<search::Measured> SearchOracle::stored(const std::string& hash) {
  auto hit = db_.find_measurement(measurement_key(key_, hash));
  if (!hit) throw RuntimeFailure(hit.error().message);
  if (!*hit) return std::nullopt;
  const store::Figures& f = (*hit)->record.figures;
  return search::Measured{f.figure_us / 1e3, f.noisy, true};
}

Result<search::Measured> SearchOracle::measure(const space::Arch& arch, const std::string& hash) {
  if (farm_ != nullptr) return std::move(measure_batch({&arch}, {hash}).front());
  std::optional<search::Measured> m = stored(hash);
  if (!m) {
    if (auto why = backend_.unsupported(arch, key_.run); !why.empty()) return Error{why};
    prof::ProfileOptions opts;
    opts.run = key_.run;
    opts.protocol = prof::Protocol::standard;
    auto r = prof::profile(backend_, arch, opts, weights_);
    if (!r) return r.error();
    auto put_arch = db_.put_arch(arch_record(arch));
    if (!put_arch) throw RuntimeFailure(put_arch.error().message);
    const auto records = measurement_records(*r, key_.model.backend);
    auto put = db_.put_measurements(records);
    if (!put) throw RuntimeFailure(put.error().message);
    m = search::Measured{r->end_to_end.figure_us / 1e3, r->end_to_end.noisy || r->noise.flagged, false};
  }
  correction_.add(arch, m->ms * 1e3);
  return *m;
}

std::vector<Result<search::Measured>> SearchOracle::measure_batch(const std::vector<const space::Arch*>& archs,
                                                                  const std::vector<std::string>& hashes) {
  if (farm_ == nullptr) return search::LatencyOracle::measure_batch(archs, hashes);
  std::vector<Result<search::Measured>> out;
  std::vector<const space::Arch*> todo;
  std::vector<std::string> todo_hashes;
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < archs.size(); ++i) {
    out.emplace_back(Error{"not measured"});
    if (auto m = stored(hashes[i])) {
      out[i] = *m;
    } else if (auto why = backend_.unsupported(*archs[i], key_.run); !why.empty()) {
      out[i] = Error{why};
    } else {
      todo.push_back(archs[i]);
      todo_hashes.push_back(hashes[i]);
      at.push_back(i);
    }
  }
  if (!todo.empty()) {
    auto measured = farm_profile(*farm_, db_, key_, todo, todo_hashes, prof::Protocol::standard);
    for (std::size_t k = 0; k < at.size(); ++k) {
      if (measured[k])
        out[at[k]] = search::Measured{measured[k]->figure_us / 1e3, measured[k]->noisy, false};
      else
        out[at[k]] = measured[k].error();
    }
  }
  // The model learns in the batch's order, as one process measuring them one by one would.
  for (std::size_t i = 0; i < archs.size(); ++i)
    if (out[i]) correction_.add(*archs[i], out[i]->ms * 1e3);
  return out;
}

}  // namespace hwnas::cli
