// The cross-check cases shared by the CPU (backend_ops_test.cc) and GPU (cuda_ops_test.cc) engine
// tests: small networks that together use every mixer, FFN, stem, downsample, head and pooling kind.
#pragma once

#include <ostream>

#include <gtest/gtest.h>

#include "space/arch_json.h"

namespace hwnas {

struct Case {
  const char* name;
  const char* json;
};
inline void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

inline const Case kCases[] = {
    {"deit_like_cls_token", R"({"input": {"resolution": 32, "classes": 7}, "stem": {"kind": "patch", "kernel": 8},
      "cls_token": true, "head": {"kind": "cls"},
      "stages": [{"dim": 32, "heads": 2, "pos_embed": true, "blocks": [
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}},
        {"mixer": {"kind": "bconv", "kernel": 1}, "ffn": {"kind": "mlp", "hidden": 40}},
        {"mixer": {"kind": "bconv", "kernel": 3}, "ffn": "none"},
        {"mixer": "skip", "ffn": {"kind": "mlp", "ratio": 1}}]}]})"},
    {"litv2_like_hilo_dtm", R"({"input": {"resolution": 64, "classes": 5}, "norm_eps": 1e-5,
      "stem": {"kind": "patch", "kernel": 4, "norm": true},
      "stages": [
        {"dim": 16, "heads": 1, "blocks": [{"mixer": "none", "ffn": {"kind": "convffn", "ratio": 2}}]},
        {"dim": 32, "heads": 4, "downsample": "dtm", "blocks": [
          {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 2}, "ffn": {"kind": "convffn", "ratio": 2}},
          {"mixer": {"kind": "hilo", "alpha": 0.9, "window": 1}, "ffn": {"kind": "convffn", "ratio": 2}}]}]})"},
    {"hilo_padded_and_branches", R"({"input": {"resolution": 28, "classes": 4},
      "stem": {"kind": "patch", "kernel": 4, "norm": true},
      "stages": [{"dim": 32, "heads": 4, "blocks": [
        {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 2}, "ffn": "none"},
        {"mixer": {"kind": "hilo", "alpha": 0.0, "window": 2}, "ffn": "none"},
        {"mixer": {"kind": "hilo", "alpha": 1.0, "window": 2}, "ffn": "none"},
        {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 3}, "ffn": {"kind": "mlp", "ratio": 2}}]}]})"},
    {"swin_like_windows_merge", R"({"input": {"resolution": 64, "classes": 6}, "norm_eps": 1e-5,
      "stem": {"kind": "patch", "kernel": 4, "norm": true},
      "stages": [
        {"dim": 16, "heads": 2, "blocks": [
          {"mixer": {"kind": "window", "size": 4}, "ffn": {"kind": "mlp", "ratio": 2}},
          {"mixer": {"kind": "window", "size": 4, "shift": true}, "ffn": {"kind": "mlp", "ratio": 2}}]},
        {"dim": 32, "heads": 2, "downsample": "merge", "blocks": [
          {"mixer": {"kind": "window", "size": 8, "shift": true}, "ffn": {"kind": "mlp", "ratio": 2}},
          {"mixer": "normskip", "ffn": {"kind": "mlp", "ratio": 2}},
          {"mixer": {"kind": "bconv", "kernel": 3}, "ffn": {"kind": "mlp", "ratio": 2}}]}]})"},
    {"pvt_like_sra_overlap", R"({"input": {"resolution": 64, "classes": 3}, "embed_norm_eps": 0.01,
      "stem": {"kind": "overlap", "kernel": 7, "stride": 4},
      "head": {"kind": "mean", "norm": false},
      "stages": [
        {"dim": 16, "heads": 1, "norm_out": true, "blocks": [{"mixer": {"kind": "sra", "ratio": 4}, "ffn": {"kind": "convffn", "ratio": 4}}]},
        {"dim": 32, "heads": 2, "norm_out": true, "downsample": {"kind": "overlap", "kernel": 3, "stride": 2},
         "blocks": [{"mixer": {"kind": "sra", "ratio": 2}, "ffn": {"kind": "convffn", "ratio": 2}},
                    {"mixer": {"kind": "sra", "ratio": 1}, "ffn": {"kind": "convffn", "ratio": 2}}]}]})"},
    {"lit_like_relpos_patch_down", R"({"input": {"resolution": 64, "classes": 3},
      "stem": {"kind": "patch", "kernel": 4, "norm": true},
      "stages": [
        {"dim": 16, "heads": 1, "pos_embed": true, "blocks": [{"mixer": "none", "ffn": {"kind": "mlp", "ratio": 2}}]},
        {"dim": 32, "heads": 2, "pos_embed": true, "downsample": {"kind": "patch", "kernel": 2, "norm": true},
         "blocks": [{"mixer": {"kind": "msa", "rel_pos": true}, "ffn": {"kind": "mlp", "ratio": 2}}]}]})"},
    {"hvt_like_pooling", R"({"input": {"resolution": 48, "classes": 5},
      "stem": {"kind": "patch", "kernel": 4},
      "stages": [{"dim": 24, "heads": 3, "pos_embed": true, "blocks": [
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}, "pool": true},
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}, "pool": true},
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}}]}]})"},
};

inline space::Arch arch_of(const Case& c) {
  auto a = space::parse_arch(c.json, c.name);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  return a.ok() ? *a : space::Arch{};
}

}  // namespace hwnas
