#include "profilers/cuda/gemm.h"

#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "profilers/cuda/check.h"
#include "profilers/cuda/gemm_layout.h"

namespace hwnas::prof::cuda {
namespace {

cudaDataType_t data_type(Elem e) {
  switch (e) {
    case Elem::f32: return CUDA_R_32F;
    case Elem::f16: return CUDA_R_16F;
    case Elem::bf16: return CUDA_R_16BF;
  }
  return CUDA_R_32F;
}

// The descriptors of one cuBLASLt product, kept alive by the step that runs it.
struct LtProduct {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  LtProduct() = default;
  LtProduct(const LtProduct&) = delete;
  LtProduct& operator=(const LtProduct&) = delete;
  ~LtProduct() {
    for (auto* l : {a, b, c, d})
      if (l != nullptr) cublasLtMatrixLayoutDestroy(l);
    if (op != nullptr) cublasLtMatmulDescDestroy(op);
  }
};

template <class T>
void set(cublasLtMatmulDesc_t op, cublasLtMatmulDescAttributes_t attr, const T& value, const char* what) {
  check(cublasLtMatmulDescSetAttribute(op, attr, &value, sizeof(value)), what);
}

cublasLtMatrixLayout_t layout(Elem e, i64 rows, i64 cols, i64 ld) {
  cublasLtMatrixLayout_t l = nullptr;
  check(cublasLtMatrixLayoutCreate(&l, data_type(e), static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols),
                                   ld),
        "cublasLtMatrixLayoutCreate");
  return l;
}

}  // namespace

void linear(Plan& plan, const std::string& name, int unit, const View& src, const View& dst,
            const std::vector<float>& w, const std::vector<float>* bias, const Epilogue& ep) {
  const i64 M = src.shape[0], K = src.shape[1], N = dst.shape[1];
  if (dst.shape[0] != M || src.strides[1] != 1 || dst.strides[1] != 1 || static_cast<i64>(w.size()) != N * K)
    throw std::logic_error(
        fmt::format("{}: linear shapes do not match (M {} K {} N {} |w| {})", name, M, K, N, w.size()));
  const Elem e = plan.act();
  void* wd = plan.upload_act(w);
  void* bd = bias != nullptr ? plan.upload_act(*bias) : nullptr;
  // Exact GELU in fp32 (a kernel after the product); cuBLASLt's GELU epilogue in 16-bit, where its
  // tanh form differs from erf by less than the type's rounding.
  const bool gelu_after = ep.act == Epilogue::Act::gelu && e == Elem::f32;
  cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_DEFAULT;
  if (ep.act == Epilogue::Act::relu) {
    epi = bd != nullptr ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
  } else if (ep.act == Epilogue::Act::gelu && !gelu_after) {
    epi = bd != nullptr ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;
  } else if (bd != nullptr) {
    epi = CUBLASLT_EPILOGUE_BIAS;
  }
  auto p = std::make_shared<LtProduct>();
  check(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  set(p->op, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T, "TRANSA");
  set(p->op, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N, "TRANSB");
  set(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, epi, "EPILOGUE");
  if (bd != nullptr) set(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bd, "BIAS_POINTER");
  p->a = layout(e, K, N, K);
  p->b = layout(e, K, M, src.strides[0]);
  p->d = layout(e, N, M, dst.strides[0]);
  p->c = layout(e, N, M, ep.residual ? ep.residual->strides[0] : dst.strides[0]);

  cublasLtMatmulPreference_t pref = nullptr;
  check(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
  const std::uint64_t ws = Context::kWorkspaceBytes;
  const std::uint32_t al_b = src.alignment(), al_d = dst.alignment(),
                      al_c = ep.residual ? ep.residual->alignment() : al_d, al_a = 256;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a, sizeof(al_a));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b, sizeof(al_b));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c, sizeof(al_c));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_d, sizeof(al_d));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(plan.ctx().lt, p->op, p->a, p->b, p->c, p->d, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (st != CUBLAS_STATUS_SUCCESS || found == 0)
    throw CudaError(
        fmt::format("{}: cuBLASLt has no algorithm for {}x{}x{} ({})", name, M, N, K, cublasGetStatusString(st)));
  p->algo = result.algo;

  const float alpha = ep.scale, beta = ep.residual ? 1.f : 0.f;
  const std::optional<View> residual = ep.residual;
  Context* ctx = &plan.ctx();
  plan.add(name, unit, "cublasLt", [=](cudaStream_t s) {
    void* d = dst.ptr();
    const void* c = residual ? residual->ptr() : d;
    check(cublasLtMatmul(ctx->lt, p->op, &alpha, wd, p->a, src.ptr(), p->b, &beta, c, p->c, d, p->d, &p->algo,
                         ctx->workspace, Context::kWorkspaceBytes, s),
          "cublasLtMatmul");
  });
  if (gelu_after)
    plan.add(name + ".gelu", unit, "hwnas:gelu",
             [=](cudaStream_t s) { kernels::gelu(e, dst.ptr(), M, N, dst.strides[0], s); });
}

void batched_matmul(Plan& plan, const std::string& name, int unit, const View& a, const View& b, const View& c,
                    float scale) {
  const i64 batch = a.shape[0], heads = a.shape[1], M = a.shape[2], K = a.shape[3], N = b.shape[3];
  if (b.shape[2] != K || c.shape[2] != M || c.shape[3] != N || c.strides[3] != 1)
    throw std::logic_error(fmt::format("{}: batched matmul shapes do not match", name));
  // Cᵀ = Bᵀ·Aᵀ in column-major terms.
  const ColMajor ca = col_major(b, name), cb = col_major(a, name);
  const i64 ldc = c.strides[2];
  const cudaDataType_t t = data_type(plan.act());
  const int count = static_cast<int>(batch * heads);
  Context* ctx = &plan.ctx();
  const auto sa = uniform_stride(b), sb = uniform_stride(a), sc = uniform_stride(c);
  if (sa && sb && sc) {
    plan.add(name, unit, "cublas:strided_batched", [=](cudaStream_t) {
      const float alpha = scale, beta = 0.f;
      check(cublasGemmStridedBatchedEx(ctx->blas, ca.op, cb.op, static_cast<int>(N), static_cast<int>(M),
                                       static_cast<int>(K), &alpha, b.ptr(), t, static_cast<int>(ca.ld), *sa, a.ptr(),
                                       t, static_cast<int>(cb.ld), *sb, &beta, c.ptr(), t, static_cast<int>(ldc), *sc,
                                       count, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            "cublasGemmStridedBatchedEx");
    });
    return;
  }
  // Pointer arrays, filled once the arena is placed.
  auto** ptrs = static_cast<void**>(plan.own(3 * static_cast<std::size_t>(count) * sizeof(void*)));
  plan.on_finalize([=] {
    std::vector<void*> host(3 * static_cast<std::size_t>(count));
    for (i64 bi = 0; bi < batch; ++bi)
      for (i64 h = 0; h < heads; ++h) {
        const auto i = static_cast<std::size_t>(bi * heads + h);
        auto at = [&](const View& v) {
          return static_cast<std::byte*>(v.ptr()) +
                 static_cast<std::size_t>(bi * v.strides[0] + h * v.strides[1]) * v.element_bytes();
        };
        host[i] = at(b);
        host[static_cast<std::size_t>(count) + i] = at(a);
        host[2 * static_cast<std::size_t>(count) + i] = at(c);
      }
    check(cudaMemcpy(ptrs, host.data(), host.size() * sizeof(void*), cudaMemcpyHostToDevice), "pointer arrays");
  });
  plan.add(name, unit, "cublas:batched", [=](cudaStream_t) {
    const float alpha = scale, beta = 0.f;
    check(
        cublasGemmBatchedEx(ctx->blas, ca.op, cb.op, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K),
                            &alpha, ptrs, t, static_cast<int>(ca.ld), ptrs + count, t, static_cast<int>(cb.ld), &beta,
                            ptrs + 2 * count, t, static_cast<int>(ldc), count, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmBatchedEx");
  });
}

}  // namespace hwnas::prof::cuda
