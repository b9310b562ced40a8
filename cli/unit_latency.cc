#include "cli/unit_latency.h"

#include <algorithm>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/store_records.h"
#include "cli/stored_measure.h"
#include "space/canonical.h"
#include "space/ops.h"

namespace hwnas::cli {
namespace {

// What a unit's latency depends on: its kind and shapes, and for a block its stage's heads, mixer,
// FFN and pooling; stems, downsamples and heads by their place. A table serves the candidates of one
// original, which share everything but their blocks' mixers and FFNs (check_carving_target), so
// equal keys are the same computation there.
std::string unit_key(const space::Arch& arch, const space::Unit& u) {
  std::string key = fmt::format("{}|{}x{}/{}+{}|{}->{}|{}x{}/{}+{}", space::name_of(u.kind), u.in.h, u.in.w, u.in.n,
                                u.in.extra, u.in_dim, u.out_dim, u.out.h, u.out.w, u.out.n, u.out.extra);
  if (u.kind == space::UnitKind::block) {
    const space::Stage& st = arch.stages[static_cast<std::size_t>(u.stage)];
    key += fmt::format("|h{}|{}|{}", st.heads, space::describe_mixer(arch, u), space::describe_ffn(arch, u));
  } else {
    key += "|" + u.label + "|" + space::describe_mixer(arch, u);  // stems, downsamples, heads: as in the original
  }
  return key;
}

}  // namespace

UnitLatencyTable::UnitLatencyTable(prof::Backend& backend, store::Store& db, const CostKey& key, std::FILE* progress)
    : backend_(backend), db_(db), key_(key), progress_(progress) {
  timing_ = prof::TimingConfig::for_protocol(prof::Protocol::standard);
  timing_.max_time_ms = std::min(timing_.max_time_ms, 400.0);  // as calibration's per-unit cap
  timing_.min_time_ms = std::min(timing_.min_time_ms, timing_.max_time_ms);
  timing_.warmup_min_ms = std::min(timing_.warmup_min_ms, timing_.max_time_ms / 2);
}

double UnitLatencyTable::units_us(const space::Arch& arch) {
  auto net = space::lower(arch);
  if (!net) throw RuntimeFailure(net.error().message);
  double sum = 0;
  bool stored = false;
  const std::string hash = space::hash_hex(space::arch_hash(arch));
  for (std::size_t i = 0; i < net->units.size(); ++i) {
    const std::string k = unit_key(arch, net->units[i]);
    auto it = us_.find(k);
    if (it == us_.end()) {
      if (!stored) {
        auto put = db_.put_arch(arch_record(arch));
        if (!put) throw RuntimeFailure(put.error().message);
        stored = true;
      }
      auto us = measure_and_store(backend_, db_, key_, arch, hash, static_cast<int>(i), timing_, weights_, progress_,
                                  /*calibration=*/false);
      if (!us) throw RuntimeFailure(fmt::format("cannot measure {} of {}", net->units[i].label, hash));
      it = us_.emplace(k, *us).first;
    }
    sum += it->second;
  }
  return sum;
}

void UnitLatencyTable::anchor(const space::Arch& original, double measured_ms) {
  const double sum = units_us(original);
  ratio_ = sum > 0 ? measured_ms * 1e3 / sum : 1.0;
}

double UnitLatencyTable::predict_ms(const space::Arch& arch) {
  return units_us(arch) * ratio_ / 1e3;
}

}  // namespace hwnas::cli
