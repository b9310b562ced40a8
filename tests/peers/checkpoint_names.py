"""hwnas parameter names -> the key names of the checkpoints hwnas loads.

Written from the tables and rules of weights/CHECKPOINTS.md (one section per convention), not
from hwnas's C++ code. Conventions (the `--names` values of hwnas accept the dashed spelling):
  hwnas      hwnas's own names (identity)
  timm_vit   timm VisionTransformer: deit-* (CHECKPOINTS.md §1)
  timm_pvt   timm pvt_v2: pvtv2-* (§2)
  timm_swin  timm >= 0.9 SwinTransformer: swin-t (§3, downsample at the start of stage i)
  lit        official ziplab LIT / LITv2: lit-*, litv2-* (§4, §5, downsample at the end of stage i-1)
"""
import re

CONVENTIONS = ("hwnas", "timm_vit", "timm_pvt", "timm_swin", "lit")


def canonical_convention(convention):
    c = convention.replace("-", "_")
    if c not in CONVENTIONS:
        raise ValueError(f"unknown naming convention {convention!r}")
    return c


def default_convention(preset):
    """The convention of a preset's own project (presets of HVT/SPViT and sampled archs: hwnas)."""
    if preset is None:
        return "hwnas"
    if preset.startswith("deit-"):
        return "timm_vit"
    if preset.startswith("pvtv2-"):
        return "timm_pvt"
    if preset.startswith("swin-"):
        return "timm_swin"
    if preset.startswith("lit-") or preset.startswith("litv2-"):
        return "lit"
    return "hwnas"


def _common_ends(name):
    """stem.* -> patch_embed.*; head.norm.* -> norm.*; head.fc.* -> head.* (§1, §4, §5)."""
    if name.startswith("stem."):
        return "patch_embed." + name[len("stem."):]
    if name.startswith("head.norm."):
        return "norm." + name[len("head.norm."):]
    if name.startswith("head.fc."):
        return "head." + name[len("head.fc."):]
    return name


def _timm_vit(name):
    # §1: cls_token / pos_embed lose the stem prefix; blocks live at the top level.
    if name in ("stem.cls_token", "stem.pos_embed"):
        return name[len("stem."):]
    m = re.fullmatch(r"stages\.0\.blocks\.(\d+)\.(.*)", name)
    if m:
        return f"blocks.{m.group(1)}.{m.group(2)}"
    return _common_ends(name)


def _timm_pvt(name):
    # §2: patch_embed. for the stem, head.{weight,bias}; everything else unchanged
    # (stages.i.downsample, stages.i.norm, mlp.dwconv, attn.q/kv/sr/norm/proj).
    if name.startswith("stem."):
        return "patch_embed." + name[len("stem."):]
    if name.startswith("head.fc."):
        return "head." + name[len("head.fc."):]
    return name


def _timm_swin(name):
    # §3 (timm >= 0.9): layers.i.* with the downsample at the start of stage i; the rel-pos table
    # is attn.relative_position_bias_table; head.fc stays; the final norm is norm.*.
    name = name.replace(".attn.core.rel_pos_table", ".attn.relative_position_bias_table")
    if name.startswith("stem."):
        return "patch_embed." + name[len("stem."):]
    if name.startswith("head.norm."):
        return "norm." + name[len("head.norm."):]
    if name.startswith("stages."):
        return "layers." + name[len("stages."):]
    return name


def _lit(name):
    # §4/§5: layers.i.blocks; the DTM of hwnas stage i is layers.{i-1}.downsample with its BN
    # called norm_layer; ConvFFN's depthwise conv is mlp.dwconv.dwconv; LIT's rel-pos table is
    # attn.relative_position_bias_table.
    name = name.replace(".attn.core.rel_pos_table", ".attn.relative_position_bias_table")
    name = name.replace(".mlp.dwconv.", ".mlp.dwconv.dwconv.")
    m = re.fullmatch(r"stages\.(\d+)\.downsample\.(.*)", name)
    if m:
        rest = m.group(2)
        if rest.startswith("norm."):
            rest = "norm_layer." + rest[len("norm."):]
        return f"layers.{int(m.group(1)) - 1}.downsample.{rest}"
    if name.startswith("stages."):
        return "layers." + name[len("stages."):]
    return _common_ends(name)


_MAPPERS = {"hwnas": lambda n: n, "timm_vit": _timm_vit, "timm_pvt": _timm_pvt,
            "timm_swin": _timm_swin, "lit": _lit}


def to_convention(hwnas_name, convention):
    """The checkpoint key of hwnas parameter `hwnas_name` in `convention`."""
    return _MAPPERS[canonical_convention(convention)](hwnas_name)
