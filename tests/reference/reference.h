// The naive fp32 reference of every network unit (stem, downsample, block, head): plain loops, one
// helper per primitive operation, clarity over speed. Used only by tests, to check the real engines.
// Semantics follow the official PyTorch code of each method (shared/SEEDS.md §1–§7); parameters are
// loaded by the names and PyTorch layouts of space/params.h. Sums are accumulated in double and every
// op's output is stored as fp32.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "profilers/weight_source.h"
#include "space/arch.h"
#include "space/ops.h"

namespace hwnas::ref {

// Runs units [first, last] of `net` (lowered from `arch`) in plain fp32 loops, batch `batch`.
// Input: if first == 0, the image [B, C, H, W] (NCHW); otherwise unit `first`'s input tokens [B, T, D] with
// T = in.extra + in.n (the cls token first, then spatial tokens row-major h, w). Output: the tokens
// [B, T', D'] after unit `last`, or [B, classes] logits if `last` is the head.
// Throws std::invalid_argument on a bad range or input size, std::runtime_error when a parameter the
// unit needs is not among param_specs(unit) (or has another size), std::logic_error when a declared
// parameter is left unused.
std::vector<float> run_units(const space::Arch& arch, const space::Lowered& net, int first, int last,
                             const prof::WeightSource& weights, std::span<const float> input, std::int64_t batch);

// ---- Primitive operations (one image; exposed for the self-tests) --------------------------------
// Token tensors are row-major [rows, channels] (channels last); maps for convolutions are [C, H, W].
// An empty bias span means "no bias".

// y[r, o] = Σ_i x[r, i]·W[o, i] + b[o]; W is [out, in] (PyTorch nn.Linear).
std::vector<float> linear(std::span<const float> x, std::int64_t rows, std::int64_t in, std::span<const float> weight,
                          std::span<const float> bias, std::int64_t out);

struct Conv2dArgs {
  std::int64_t in_c = 0, in_h = 0, in_w = 0;
  std::int64_t out_c = 0;
  std::int64_t kernel = 1, stride = 1, padding = 0, groups = 1;
  std::int64_t out_h() const;  // floor((in + 2p - k)/s) + 1
  std::int64_t out_w() const;
};
// nn.Conv2d (zero padding, dilation 1): x [in_c, in_h, in_w], weight [out_c, in_c/groups, k, k].
std::vector<float> conv2d(std::span<const float> x, const Conv2dArgs& a, std::span<const float> weight,
                          std::span<const float> bias);

// Zero outside [0, h)×[0, w); otherwise the bilinear blend of the 4 neighbours (floor, floor + 1), each
// neighbour outside the map contributing 0 (torchvision / mmcv deform_conv2d).
double bilinear_zero(std::span<const float> plane, std::int64_t h, std::int64_t w, double y, double x);
// torchvision.ops.deform_conv2d (one offset group, no mask, dilation 1, groups 1): offset [2·k·k, out_h,
// out_w], channel 2·t = dy and 2·t + 1 = dx of tap t = ki·k + kj; sample at (oy·s - p + ki + dy, ox·s - p + kj + dx).
std::vector<float> deform_conv2d(std::span<const float> x, std::span<const float> offset, const Conv2dArgs& a,
                                 std::span<const float> weight, std::span<const float> bias);

// LayerNorm over the last axis (biased variance).
std::vector<float> layer_norm(std::span<const float> x, std::int64_t rows, std::int64_t channels,
                              std::span<const float> gamma, std::span<const float> beta, double eps);
// BatchNorm (eval) over channels-last rows: (x - mean)/sqrt(var + eps)·weight + bias.
std::vector<float> batch_norm(std::span<const float> x, std::int64_t rows, std::int64_t channels,
                              std::span<const float> weight, std::span<const float> bias, std::span<const float> mean,
                              std::span<const float> var, double eps = 1e-5);
float gelu(float x);  // exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2))
std::vector<float> gelu(std::span<const float> x);
std::vector<float> relu(std::span<const float> x);
// Softmax over the last axis, in place.
void softmax_rows(std::span<float> x, std::int64_t rows, std::int64_t cols);

// Multi-head attention: q [q_len, heads·d], k and v [kv_len, heads·d] (head h at columns h·d..h·d+d-1).
// softmax(q·kᵀ·d^-0.5 + bias)·v per head; bias empty or [heads, q_len, kv_len]. Returns [q_len, heads·d].
std::vector<float> attention(std::span<const float> q, std::span<const float> k, std::span<const float> v,
                             std::int64_t q_len, std::int64_t kv_len, std::int64_t heads, std::int64_t head_dim,
                             std::span<const float> bias = {});

// AvgPool2d(kernel = stride = s, no padding) on a channels-last h×w map → [(h/s)·(w/s), c].
std::vector<float> avg_pool2d(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t s);
// MaxPool1d over the token axis, per channel: [len, c] → [floor((len - k)/s) + 1, c].
std::vector<float> max_pool1d(std::span<const float> x, std::int64_t len, std::int64_t c, std::int64_t kernel,
                              std::int64_t stride);

// ---- Layout helpers -------------------------------------------------------------------------------
std::vector<float> tokens_to_chw(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c);
std::vector<float> chw_to_tokens(std::span<const float> x, std::int64_t c, std::int64_t h, std::int64_t w);
// Columns [begin, begin + width) of a [rows, cols] matrix.
std::vector<float> slice_cols(std::span<const float> x, std::int64_t rows, std::int64_t cols, std::int64_t begin,
                              std::int64_t width);
// torch.roll over the two map axes of a channels-last h×w map: out[(i + dy) mod h][(j + dx) mod w] = x[i][j].
std::vector<float> roll(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t dy,
                        std::int64_t dx);
// Non-overlapping ws×ws windows of a channels-last h×w map (h, w multiples of ws): windows row-major,
// tokens row-major within a window → [(h/ws)·(w/ws)·ws·ws, c]. window_merge is the inverse.
std::vector<float> window_partition(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c,
                                    std::int64_t ws);
std::vector<float> window_merge(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c,
                                std::int64_t ws);
// Zero-pad a channels-last h×w map right/bottom to hp×wp, and crop it back.
std::vector<float> pad_map(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t hp,
                           std::int64_t wp);
std::vector<float> crop_map(std::span<const float> x, std::int64_t hp, std::int64_t wp, std::int64_t c, std::int64_t h,
                            std::int64_t w);
// Swin patch merging's gather: token (r, c) = [x(2r,2c), x(2r+1,2c), x(2r,2c+1), x(2r+1,2c+1)] → [(h/2)(w/2), 4c].
std::vector<float> patch_merge_gather(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c);
// Relative position bias [heads, n, n] (n = gh·gw) from a table [(2gh-1)(2gw-1), heads]:
// bias[h, i, j] = table[(ih - jh + gh - 1)·(2gw - 1) + (iw - jw + gw - 1), h].
std::vector<float> rel_pos_bias(std::span<const float> table, std::int64_t heads, std::int64_t gh, std::int64_t gw);
// Swin's shifted-window mask [windows, ws², ws²]: 0 where both tokens share a region label, -100 otherwise.
std::vector<float> swin_shift_mask(std::int64_t h, std::int64_t w, std::int64_t ws, std::int64_t shift);

}  // namespace hwnas::ref
