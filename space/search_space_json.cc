// Search-space JSON (format in space/FORMAT.md). List-valued fields of a mixer choice expand to
// their cartesian product: {"kind": "hilo", "alpha": [0.5, 0.9], "window": [2, 4]} is four choices.
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "space/arch_json_detail.h"
#include "space/json_reader.h"
#include "space/search_space.h"
#include "space/seed_spaces.h"
#include "space/spec_error.h"
#include "space/validate.h"

namespace hwnas::space {
namespace {

using detail::ObjectReader;
using detail::SpecError;
using nlohmann::json;

// A list, or one scalar taken as a list of one.
std::vector<json> list_of(const json& v, const std::string& path) {
  std::vector<json> out;
  if (v.is_array()) {
    if (v.empty()) throw SpecError(path, "must not be an empty list");
    for (const auto& x : v) out.push_back(x);
  } else {
    out.push_back(v);
  }
  return out;
}

std::vector<std::int64_t> int_list(ObjectReader& r, std::string_view key, std::int64_t lo, std::int64_t hi) {
  std::vector<std::int64_t> out;
  const auto items = list_of(r.any(key), r.path(key));
  for (std::size_t i = 0; i < items.size(); ++i)
    out.push_back(detail::as_integer(items[i], detail::index_path(r.path(key), i), lo, hi));
  return out;
}

std::vector<Mixer> expand_mixers(const json& v, const std::string& path) {
  std::vector<Mixer> out;
  const auto items = list_of(v, path);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string ip = detail::index_path(path, i);
    json item = items[i].is_string() ? json{{"kind", items[i]}} : items[i];
    if (!item.is_object()) throw SpecError(ip, "must be a mixer object or kind name");
    std::vector<json> combos = {json::object()};
    for (auto it = item.begin(); it != item.end(); ++it) {
      std::vector<json> next;
      for (const json& c : combos) {
        for (const json& value : list_of(it.value(), detail::join_path(ip, it.key()))) {
          json n = c;
          n[it.key()] = value;
          next.push_back(n);
        }
      }
      combos = std::move(next);
      if (combos.size() > 4096) throw SpecError(ip, "expands to more than 4096 choices");
    }
    for (const json& c : combos) {
      out.push_back(detail::read_mixer(c, ip));
      detail::check_mixer(out.back(), ip);
    }
  }
  return out;
}

StageSpace read_stage_space(const json& j, const std::string& path, std::size_t index) {
  ObjectReader r(j, path);
  StageSpace st;
  st.depths = int_list(r, "depth", 1, kMaxBlocksPerStage);
  st.dims = int_list(r, "dim", 1, kMaxDim);
  st.head_dims = int_list(r, "head_dim", 1, kMaxDim);
  if (index > 0) {
    const auto items = list_of(r.any("downsample"), r.path("downsample"));
    for (std::size_t i = 0; i < items.size(); ++i) {
      st.downsamples.push_back(detail::read_patch(items[i], detail::index_path(r.path("downsample"), i)));
      detail::check_patch(st.downsamples.back(), detail::index_path(r.path("downsample"), i), false);
    }
  } else {
    st.downsamples.push_back(Patch{});
  }
  st.mixers = expand_mixers(r.any("mixer"), r.path("mixer"));
  {
    ObjectReader fr(r.object("ffn"), r.path("ffn"));
    const auto kinds = list_of(fr.any("kind"), fr.path("kind"));
    for (std::size_t i = 0; i < kinds.size(); ++i)
      st.ffn_kinds.push_back(detail::read_ffn_kind(kinds[i], detail::index_path(fr.path("kind"), i)));
    const auto ratios = list_of(fr.any("ratio"), fr.path("ratio"));
    for (std::size_t i = 0; i < ratios.size(); ++i)
      st.ffn_ratios.push_back(detail::as_number(ratios[i], detail::index_path(fr.path("ratio"), i), 1.0 / 64, 64.0));
    fr.finish();
  }
  st.removable = r.boolean("removable", false);
  st.pos_embed = r.boolean("pos_embed", false);
  st.norm_out = r.boolean("norm_out", false);
  r.finish();
  return st;
}

SearchSpace read_space(const json& j, const std::string& source) {
  ObjectReader r(j, "");
  SearchSpace sp;
  sp.name = r.string("name", source);
  sp.description = r.string("description", "");
  {
    ObjectReader br(r.object("base"), "base");
    if (const json* in = br.get("input")) sp.base.input = detail::read_input(*in, "base.input");
    sp.base.norm_eps = br.number("norm_eps", 0.0, 1.0, 1e-6);
    sp.base.stem = detail::read_patch(br.object("stem"), "base.stem");
    detail::check_patch(sp.base.stem, "base.stem", true);
    sp.base.cls_token = br.boolean("cls_token", false);
    if (const json* h = br.get("head")) sp.base.head = detail::read_head(*h, "base.head");
    br.finish();
  }
  const json& stages = r.array("stages");
  if (stages.empty()) throw SpecError("stages", "must have at least one stage");
  for (std::size_t s = 0; s < stages.size(); ++s)
    sp.stages.push_back(read_stage_space(stages[s], detail::index_path("stages", s), s));
  r.finish();
  return sp;
}

}  // namespace

Result<SearchSpace> parse_search_space(const std::string& text, const std::string& source) {
  auto j = detail::parse_json_text(text, source);
  if (!j) return j.error();
  SearchSpace sp;
  try {
    sp = read_space(*j, source);
  } catch (const SpecError& e) {
    return Error{fmt::format("{}: {}", source, e.what())};
  }
  // The space must be usable: its first choices (after repair) must decode to a valid network.
  Sampler sampler(sp);
  auto c = sampler.repair(Genome(sampler.genes().size(), 0));
  if (!c) return Error{fmt::format("{}: {}", source, c.error().message)};
  return sp;
}

Result<SearchSpace> load_search_space(const std::string& name_or_file) {
  if (is_seed_space_spec(name_or_file)) return parse_seed_space(name_or_file);
  for (const auto& n : builtin_space_names()) {
    if (n == name_or_file) return builtin_space(n);
  }
  std::error_code ec;
  if (!std::filesystem::exists(name_or_file, ec) && name_or_file.find('/') == std::string::npos &&
      !name_or_file.ends_with(".json")) {
    const std::string hint = did_you_mean(name_or_file, builtin_space_names());
    return Error{
        fmt::format("unknown search space '{}'{} (built-in: {}; seed methods: spvit:BASE, finercut:BASE; "
                    "or a JSON file)",
                    name_or_file, hint.empty() ? "" : fmt::format(": did you mean '{}'?", hint),
                    fmt::join(builtin_space_names(), ", "))};
  }
  auto text = detail::read_text_file(name_or_file);
  if (!text) return text.error();
  return parse_search_space(*text, name_or_file);
}

}  // namespace hwnas::space
