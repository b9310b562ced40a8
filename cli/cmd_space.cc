// hwnas space validate|show|sample
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/arch_arg.h"
#include "cli/options.h"
#include "cli/table.h"
#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/count.h"
#include "space/presets.h"
#include "space/search_space.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

space::Lowered lower_or_fail(const space::Arch& a) {
  auto net = space::lower(a);
  if (!net) throw RuntimeFailure(net.error().message);
  return std::move(net).value();
}

std::string tokens_text(const space::Tokens& t) {
  std::string s = t.grid ? fmt::format("{}x{}", t.h, t.w) : fmt::format("{}", t.n);
  if (t.extra > 0) s += fmt::format("+{}", t.extra);
  return s;
}

json counts_json(const space::Counts& c) {
  return {{"params", c.params},
          {"macs", c.macs},
          {"flops", c.flops()},
          {"paper_macs", c.paper_macs},
          {"activation_bytes", c.act_bytes},
          {"weight_bytes", c.weight_bytes}};
}

json show_json(const space::Arch& a, const space::Lowered& net) {
  json units = json::array();
  for (const space::Unit& u : net.units) {
    json ops = json::array();
    for (const space::Op& op : u.ops) {
      json o = counts_json(space::count(op));
      o["name"] = op.name;
      o["kind"] = space::name_of(op.kind);
      ops.push_back(o);
    }
    json ju = counts_json(space::count(u));
    ju["label"] = u.label;
    ju["kind"] = space::name_of(u.kind);
    ju["mixer"] = space::describe_mixer(a, u);
    ju["ffn"] = space::describe_ffn(a, u);
    ju["tokens_in"] = u.in.total();
    ju["tokens_out"] = u.out.total();
    ju["dim_in"] = u.in_dim;
    ju["dim_out"] = u.out_dim;
    ju["ops"] = ops;
    units.push_back(ju);
  }
  json out;
  out["name"] = a.meta.name;
  out["hash"] = space::hash_hex(space::arch_hash(a));
  out["totals"] = counts_json(space::count(net));
  out["paper_count"] = a.meta.paper_count;
  out["units"] = units;
  out["arch"] = space::arch_to_json(a);
  return out;
}

void show_table(const space::Arch& a, const space::Lowered& net) {
  const space::Counts total = space::count(net);
  Table t({{"unit", Table::Align::left},
           {"mixer", Table::Align::left},
           {"ffn", Table::Align::left},
           {"tokens"},
           {"dim"},
           {"params"},
           {"MACs"},
           {"share"}});
  for (const space::Unit& u : net.units) {
    const space::Counts c = space::count(u);
    const double share = total.macs > 0 ? 100.0 * static_cast<double>(c.macs) / static_cast<double>(total.macs) : 0.0;
    t.add_row({u.label, space::describe_mixer(a, u), space::describe_ffn(a, u), tokens_text(u.in),
               fmt::format("{}", u.out_dim), space::format_params(c.params), space::format_macs(c.macs),
               fmt::format("{:.1f}%", share)});
  }
  const std::string title = a.meta.name.empty() ? std::string("architecture") : a.meta.name;
  fmt::print("{} [{}]\n", title, space::hash_hex(space::arch_hash(a)));
  t.print(stdout);
  fmt::print("params        {} ({})\n", space::format_params(total.params), total.params);
  // SEEDS.md §9: executed MACs first, the source repo's own count beside it.
  const std::string paper = a.meta.paper_count.empty()
                                ? std::string()
                                : fmt::format(" (paper: {:.3f} GMACs, {} flops() convention)",
                                              static_cast<double>(total.paper_macs) / 1e9, a.meta.paper_count);
  fmt::print("MACs          {}{}\n", space::format_macs(total.macs), paper);
  fmt::print("              {} executed multiply-accumulates; FLOPs = 2 x MACs = {:.3f} GFLOPs\n", total.macs,
             static_cast<double>(total.flops()) / 1e9);
  fmt::print("weights       {} fp32\n", space::format_bytes(total.weight_bytes));
  fmt::print("activations   {} written per image (fp32)\n", space::format_bytes(total.act_bytes));
}

// A search space has a "base" object at the top; anything else is read as an architecture (which
// also reports syntax errors).
bool is_search_space_file(const std::string& path) {
  std::ifstream in(path);
  const json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("base");
}

int space_validate(const Args& args) {
  const std::string usage = "hwnas space validate FILE...";
  po::options_description desc("space validate: check architecture or search-space JSON files");
  desc.add_options()("file", po::value<std::vector<std::string>>()->required(), "JSON files");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  if (!parse_options(usage, desc, pos, args, vm)) return kExitOk;
  int rc = kExitOk;
  for (const auto& file : vm["file"].as<std::vector<std::string>>()) {
    if (is_search_space_file(file)) {
      auto sp = space::load_search_space(file);
      if (!sp) {
        fmt::print(stderr, "{}\n", sp.error().message);
        rc = kExitUsage;
        continue;
      }
      space::Sampler s(*sp);
      fmt::print("{}: ok, search space '{}' ({} genes, 10^{:.1f} candidates)\n", file, sp->name, s.genes().size(),
                 s.log10_size());
      continue;
    }
    auto a = space::load_arch_file(file);
    if (!a) {
      fmt::print(stderr, "{}\n", a.error().message);
      rc = kExitUsage;
      continue;
    }
    const auto c = space::count(lower_or_fail(*a));
    fmt::print("{}: ok, {} params, {}, hash {}\n", file, space::format_params(c.params), space::format_macs(c.macs),
               space::hash_hex(space::arch_hash(*a)));
  }
  return rc;
}

int space_show(const Args& args) {
  const std::string usage = "hwnas space show (--preset NAME | FILE) [--json] [--canonical]";
  po::options_description desc("space show: per-block table of an architecture");
  po::positional_options_description pos;
  add_arch_options(desc, pos);
  desc.add_options()("json", "print the full record as JSON")("canonical",
                                                              "print the canonical JSON text (the hash input)");
  po::variables_map vm;
  if (!parse_options(usage, desc, pos, args, vm)) return kExitOk;
  const space::Arch a = arch_from_options(vm, usage);
  const space::Lowered net = lower_or_fail(a);
  if (vm.count("canonical") != 0) {
    fmt::print("{}\n", space::canonical_text(a));
  } else if (vm.count("json") != 0) {
    fmt::print("{}\n", show_json(a, net).dump(2));
  } else {
    show_table(a, net);
  }
  return kExitOk;
}

int space_sample(const Args& args) {
  const std::string usage = "hwnas space sample --space NAME|FILE [-n N] [--seed S]";
  po::options_description desc("space sample: distinct random architectures, one JSON line each");
  desc.add_options()("space", po::value<std::string>()->default_value("hybrid-vit"),
                     "built-in space name or JSON file")("count,n", po::value<int>()->default_value(10),
                                                         "how many distinct architectures")(
      "seed", po::value<std::uint64_t>()->default_value(1), "random seed");
  po::variables_map vm;
  if (!parse_options(usage, desc, {}, args, vm)) return kExitOk;
  auto sp = space::load_search_space(vm["space"].as<std::string>());
  if (!sp) throw UsageError(sp.error().message);
  const int n = vm["count"].as<int>();
  if (n < 0) throw UsageError("--count must be >= 0");
  space::Sampler sampler(*sp);
  space::Rng rng(vm["seed"].as<std::uint64_t>());
  std::set<std::uint64_t> seen;
  const long max_attempts = 100L * n + 1000;
  long attempts = 0;
  while (static_cast<int>(seen.size()) < n) {
    if (++attempts > max_attempts)
      throw RuntimeFailure(fmt::format("found only {} distinct architectures in {} samples of space '{}'", seen.size(),
                                       max_attempts, sp->name));
    auto c = sampler.sample(rng);
    if (!c) throw RuntimeFailure(c.error().message);
    const std::uint64_t h = space::arch_hash(c->arch);
    if (!seen.insert(h).second) continue;
    json line = space::arch_to_json(c->arch, false);
    line["meta"] = {{"name", fmt::format("{}-{}", sp->name, space::hash_hex(h))}};
    fmt::print("{}\n", line.dump());
  }
  return kExitOk;
}

}  // namespace

int run_space(const Args& args) {
  static const std::vector<Command> kSub = {
      {"validate", "check architecture or search-space JSON files", space_validate},
      {"show", "per-block table: mixer, FFN, tokens, dim, params, MACs, share", space_show},
      {"sample", "sample distinct architectures from a search space (JSON lines)", space_sample},
  };
  return dispatch(kSub, "hwnas space", args);
}

int run_presets(const Args& args) {
  const std::string usage = "hwnas presets [--json]";
  po::options_description desc("presets: the built-in reference architectures");
  desc.add_options()("json", "print as JSON");
  po::variables_map vm;
  if (!parse_options(usage, desc, {}, args, vm)) return kExitOk;
  json out = json::array();
  Table t({{"name", Table::Align::left},
           {"family", Table::Align::left},
           {"params"},
           {"MACs"},
           {"top-1"},
           {"description", Table::Align::left}});
  for (const auto& info : space::presets()) {
    auto a = space::preset(info.name);
    if (!a) throw RuntimeFailure(a.error().message);
    const auto c = space::count(lower_or_fail(*a));
    const std::string top1 = a->meta.top1 ? fmt::format("{:.1f}", *a->meta.top1) : "-";
    t.add_row(
        {info.name, info.family, space::format_params(c.params), space::format_macs(c.macs), top1, info.description});
    json row = {{"name", info.name},  {"family", info.family}, {"description", info.description},
                {"params", c.params}, {"macs", c.macs},        {"hash", space::hash_hex(space::arch_hash(*a))}};
    if (a->meta.top1) row["top1"] = *a->meta.top1;
    out.push_back(row);
  }
  if (vm.count("json") != 0) {
    fmt::print("{}\n", out.dump(2));
  } else {
    t.print(stdout);
  }
  return kExitOk;
}

}  // namespace hwnas::cli
