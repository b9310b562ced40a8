#include "space/arch_json.h"

#include <cmath>

#include <fmt/format.h>

#include "space/arch_json_detail.h"
#include "space/json_reader.h"
#include "space/spec_error.h"
#include "space/validate.h"

namespace hwnas::space {
namespace {

using detail::ObjectReader;
using detail::SpecError;
using nlohmann::json;

// Reads sizes as any int64; ranges are validate()'s job so that every Arch gets the same rules.
constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kAnyNeg = std::numeric_limits<std::int64_t>::min();

template <class E>
std::string known_names(E count) {
  std::string out;
  for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
    if (!out.empty()) out += ", ";
    out += name_of(static_cast<E>(i));
  }
  return out;
}

template <class E, class F>
E read_kind(ObjectReader& r, F from, E count) {
  const std::string s = r.string("kind");
  if (auto k = from(s)) return *k;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) names.emplace_back(name_of(static_cast<E>(i)));
  std::string hint = did_you_mean(s, names);
  throw SpecError(r.path("kind"),
                  fmt::format("unknown kind '{}'{} (known: {})", s,
                              hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint), known_names(count)));
}

// A {"kind": ...} object, or the kind name alone as a string.
json as_kind_object(const json& j) {
  return j.is_string() ? json{{"kind", j}} : j;
}

}  // namespace

namespace detail {

Patch read_patch(const json& jin, const std::string& path) {
  const json j = as_kind_object(jin);
  ObjectReader r(j, path);
  Patch p;
  p.kind = read_kind(r, patch_kind_from, PatchKind::kCount);
  switch (p.kind) {
    case PatchKind::patch:
      p.kernel = r.integer("kernel", kAnyNeg, kAny);
      p.stride = r.integer("stride", kAnyNeg, kAny, p.kernel);
      p.padding = r.integer("padding", kAnyNeg, kAny, 0);
      p.norm = r.boolean("norm", false);
      break;
    case PatchKind::overlap:
      p.kernel = r.integer("kernel", kAnyNeg, kAny);
      p.stride = r.integer("stride", kAnyNeg, kAny);
      p.padding = r.integer("padding", kAnyNeg, kAny, p.kernel / 2);
      p.norm = r.boolean("norm", true);
      break;
    case PatchKind::merge:
    case PatchKind::dtm:
      p.kernel = 2;
      p.stride = 2;
      break;
    case PatchKind::none:
    case PatchKind::kCount: break;
  }
  r.finish();
  return p;
}

Mixer read_mixer(const json& jin, const std::string& path) {
  const json j = as_kind_object(jin);
  ObjectReader r(j, path);
  Mixer m;
  m.kind = read_kind(r, mixer_kind_from, MixerKind::kCount);
  switch (m.kind) {
    case MixerKind::msa: m.msa_rel_pos = r.boolean("rel_pos", false); break;
    case MixerKind::hilo:
      m.hilo_alpha = r.number("alpha", -HUGE_VAL, HUGE_VAL, 0.9);
      m.hilo_window = r.integer("window", kAnyNeg, kAny, 2);
      break;
    case MixerKind::window:
      m.window_size = r.integer("size", kAnyNeg, kAny, 7);
      m.window_shift = r.boolean("shift", false);
      break;
    case MixerKind::sra: m.sra_ratio = r.integer("ratio", kAnyNeg, kAny, 1); break;
    case MixerKind::bconv: m.bconv_kernel = r.integer("kernel", kAnyNeg, kAny); break;
    case MixerKind::none:
    case MixerKind::skip:
    case MixerKind::normskip:
    case MixerKind::kCount: break;
  }
  r.finish();
  return m;
}

Input read_input(const json& j, const std::string& path) {
  ObjectReader ir(j, path);
  Input in;
  if (const json* res = ir.get("resolution")) {
    if (res->is_array()) {
      if (res->size() != 2) throw SpecError(ir.path("resolution"), "must be an integer or [height, width]");
      in.height = as_integer((*res)[0], ir.path("resolution") + "[0]", kAnyNeg, kAny);
      in.width = as_integer((*res)[1], ir.path("resolution") + "[1]", kAnyNeg, kAny);
    } else {
      in.height = in.width = as_integer(*res, ir.path("resolution"), kAnyNeg, kAny);
    }
  }
  in.channels = ir.integer("channels", kAnyNeg, kAny, 3);
  in.classes = ir.integer("classes", kAnyNeg, kAny, 1000);
  ir.finish();
  return in;
}

Head read_head(const json& j, const std::string& path) {
  const json jj = as_kind_object(j);
  ObjectReader hr(jj, path);
  Head h;
  h.kind = read_kind(hr, head_kind_from, HeadKind::kCount);
  h.norm = hr.boolean("norm", true);
  hr.finish();
  return h;
}

FfnKind read_ffn_kind(const json& j, const std::string& path) {
  if (!j.is_string()) throw SpecError(path, fmt::format("must be a string (got {})", json_type_name(j)));
  const std::string s = j.get<std::string>();
  if (auto k = ffn_kind_from(s)) return *k;
  throw SpecError(path, fmt::format("unknown kind '{}' (known: {})", s, known_names(FfnKind::kCount)));
}

}  // namespace detail

namespace {

Ffn read_ffn(const json& jin, const std::string& path, std::int64_t dim) {
  const json j = as_kind_object(jin);
  ObjectReader r(j, path);
  Ffn f;
  f.kind = read_kind(r, ffn_kind_from, FfnKind::kCount);
  if (f.kind != FfnKind::none) {
    const bool has_hidden = r.has("hidden"), has_ratio = r.has("ratio");
    if (has_hidden == has_ratio) throw SpecError(path, "give exactly one of 'hidden' (width) or 'ratio' (width / dim)");
    if (has_hidden) {
      f.hidden = r.integer("hidden", kAnyNeg, kAny);
    } else {
      const double ratio = r.number("ratio", 0.0, 1e6);
      const double w = ratio * static_cast<double>(dim);
      if (std::abs(w - std::round(w)) > 1e-9 * std::max(1.0, w))
        throw SpecError(r.path("ratio"), fmt::format("ratio {} times dim {} is not an integer width", ratio, dim));
      f.hidden = static_cast<std::int64_t>(std::llround(w));
    }
  }
  r.finish();
  return f;
}

Block read_block(const json& j, const std::string& path, std::int64_t dim) {
  ObjectReader r(j, path);
  Block b;
  b.mixer = detail::read_mixer(r.any("mixer"), r.path("mixer"));
  b.ffn = read_ffn(r.any("ffn"), r.path("ffn"), dim);
  b.pool_after = r.boolean("pool", false);
  r.finish();
  return b;
}

Stage read_stage(const json& j, const std::string& path, std::size_t index) {
  ObjectReader r(j, path);
  Stage st;
  st.dim = r.integer("dim", kAnyNeg, kAny);
  st.heads = r.integer("heads", kAnyNeg, kAny, 1);
  if (const json* d = r.get("downsample")) {
    st.downsample = detail::read_patch(*d, r.path("downsample"));
  } else if (index > 0) {
    throw SpecError(r.path("downsample"),
                    "is required for every stage after the first (use \"none\" to keep the grid)");
  }
  st.pos_embed = r.boolean("pos_embed", false);
  st.norm_out = r.boolean("norm_out", false);
  const bool has_blocks = r.has("blocks"), has_depth = r.has("depth");
  if (has_blocks == has_depth)
    throw SpecError(path, "give either 'blocks' (a list) or 'depth' with one 'block' repeated");
  if (has_blocks) {
    const json& blocks = r.array("blocks");
    for (std::size_t b = 0; b < blocks.size(); ++b)
      st.blocks.push_back(read_block(blocks[b], detail::index_path(r.path("blocks"), b), st.dim));
  } else {
    const std::int64_t depth = r.integer("depth", 1, 1024);
    const Block b = read_block(r.object("block"), r.path("block"), st.dim);
    st.blocks.assign(static_cast<std::size_t>(depth), b);
  }
  r.finish();
  return st;
}

Meta read_meta(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  Meta m;
  m.name = r.string("name", "");
  m.paper_count = r.string("paper_count", "");
  if (r.has("top1")) m.top1 = r.number("top1", 0.0, 100.0);
  m.source = r.string("source", "");
  r.finish();
  return m;
}

Arch read_arch(const json& j) {
  ObjectReader r(j, "");
  Arch a;
  if (const json* in = r.get("input")) a.input = detail::read_input(*in, "input");
  a.norm_eps = r.number("norm_eps", -HUGE_VAL, HUGE_VAL, 1e-6);
  if (r.has("embed_norm_eps")) a.embed_norm_eps = r.number("embed_norm_eps", -HUGE_VAL, HUGE_VAL);
  a.stem = detail::read_patch(r.object("stem"), "stem");
  a.cls_token = r.boolean("cls_token", false);
  const json& stages = r.array("stages");
  for (std::size_t s = 0; s < stages.size(); ++s)
    a.stages.push_back(read_stage(stages[s], detail::index_path("stages", s), s));
  if (const json* h = r.get("head")) a.head = detail::read_head(*h, "head");
  if (const json* m = r.get("meta")) a.meta = read_meta(*m, "meta");
  r.finish();
  return a;
}

json patch_json(const Patch& p) {
  json j{{"kind", name_of(p.kind)}};
  if (p.kind == PatchKind::patch || p.kind == PatchKind::overlap) {
    j["kernel"] = p.kernel;
    j["stride"] = p.stride;
    j["padding"] = p.padding;
    j["norm"] = p.norm;
  }
  return j;
}

json mixer_json(const Mixer& m) {
  json j{{"kind", name_of(m.kind)}};
  switch (m.kind) {
    case MixerKind::msa: j["rel_pos"] = m.msa_rel_pos; break;
    case MixerKind::hilo:
      j["alpha"] = m.hilo_alpha;
      j["window"] = m.hilo_window;
      break;
    case MixerKind::window:
      j["size"] = m.window_size;
      j["shift"] = m.window_shift;
      break;
    case MixerKind::sra: j["ratio"] = m.sra_ratio; break;
    case MixerKind::bconv: j["kernel"] = m.bconv_kernel; break;
    case MixerKind::none:
    case MixerKind::skip:
    case MixerKind::normskip:
    case MixerKind::kCount: break;
  }
  return j;
}

}  // namespace

Result<Arch> arch_from_json(const json& j, const std::string& source) {
  Arch a;
  try {
    a = read_arch(j);
  } catch (const SpecError& e) {
    return Error{fmt::format("{}: {}", source, e.what())};
  }
  auto v = validate(std::move(a));
  if (!v) return Error{fmt::format("{}: {}", source, v.error().message)};
  return v;
}

Result<Arch> parse_arch(std::string_view text, const std::string& source) {
  auto j = detail::parse_json_text(text, source);
  if (!j) return j.error();
  return arch_from_json(*j, source);
}

Result<Arch> load_arch_file(const std::string& path) {
  auto text = detail::read_text_file(path);
  if (!text) return text.error();
  return parse_arch(*text, path);
}

json arch_to_json(const Arch& a, bool with_meta) {
  json j;
  const json resolution =
      a.input.height == a.input.width ? json(a.input.height) : json::array({a.input.height, a.input.width});
  j["input"] = {{"resolution", resolution}, {"channels", a.input.channels}, {"classes", a.input.classes}};
  j["norm_eps"] = a.norm_eps;
  if (a.embed_norm_eps) j["embed_norm_eps"] = *a.embed_norm_eps;  // absent by default: hashes unchanged
  j["stem"] = patch_json(a.stem);
  j["cls_token"] = a.cls_token;
  json stages = json::array();
  for (const Stage& st : a.stages) {
    json blocks = json::array();
    for (const Block& b : st.blocks) {
      json ffn{{"kind", name_of(b.ffn.kind)}};
      if (b.ffn.kind != FfnKind::none) ffn["hidden"] = b.ffn.hidden;
      blocks.push_back({{"mixer", mixer_json(b.mixer)}, {"ffn", ffn}, {"pool", b.pool_after}});
    }
    stages.push_back({{"dim", st.dim},
                      {"heads", st.heads},
                      {"downsample", patch_json(st.downsample)},
                      {"pos_embed", st.pos_embed},
                      {"norm_out", st.norm_out},
                      {"blocks", blocks}});
  }
  j["stages"] = stages;
  j["head"] = {{"kind", name_of(a.head.kind)}, {"norm", a.head.norm}};
  if (with_meta) {
    json m = json::object();
    if (!a.meta.name.empty()) m["name"] = a.meta.name;
    if (!a.meta.paper_count.empty()) m["paper_count"] = a.meta.paper_count;
    if (a.meta.top1) m["top1"] = *a.meta.top1;
    if (!a.meta.source.empty()) m["source"] = a.meta.source;
    if (!m.empty()) j["meta"] = m;
  }
  return j;
}

}  // namespace hwnas::space
