// GEMM, the one matrix multiply every convolution reduces to:
//   C (M×N) = alpha · op(A) (M×K) · op(B) (K×N) + beta · C,   all row-major,
// where op(A) = A or Aᵀ (A stored K×M) and likewise for B. Leading dimensions default to the
// packed row length (K or M for A, N or K for B, N for C). With beta = 0, C is only written.
#pragma once
#include "kernels/cpu/gemm_microkernel.h"

namespace pg::kernels {

struct GemmParams {
  bool trans_a = false;
  bool trans_b = false;
  float alpha = 1.0f;
  float beta = 0.0f;
  int lda = 0;  // 0: the packed default
  int ldb = 0;
  int ldc = 0;
};

// The fast version: packed panels, cache blocking, a register-blocked SIMD micro-kernel, OpenMP.
void gemm(int M, int N, int K, const float* A, const float* B, float* C, const GemmParams& p = {});

// A right-hand operand op(B) (K×N) that is never stored as a matrix: it writes its blocks straight
// into the GEMM's packed layout. The convolutions use it to run im2col into the GEMM's B panels,
// so the column matrix is never written out whole and read back (see kernels/cpu/conv.cpp).
class PanelSource {
 public:
  virtual ~PanelSource() = default;
  // Writes op(B)[k0:k0+kc, n0:n0+nc] as ceil(nc / W) panels of kc rows × W = kGemmPanelWidth
  // columns, row by row: panels[(p·kc + k)·W + t] = op(B)(k0 + k, n0 + p·W + t), zero past nc.
  // Called concurrently from the GEMM's threads (each with its own panels).
  virtual void pack(int k0, int kc, int n0, int nc, float* panels) const = 0;
};
// The columns of one packed B panel: the micro-kernel's NR.
inline constexpr int kGemmPanelWidth = gemm_detail::kNR;
// gemm with op(B) given by a PanelSource; p.trans_b and p.ldb do not apply.
void gemm(int M, int N, int K, const float* A, const PanelSource& B, float* C, const GemmParams& p = {});
// The reference: the triple loop, in double precision accumulators. gemm computes the same.
void gemm_reference(int M, int N, int K, const float* A, const float* B, float* C, const GemmParams& p = {});

}  // namespace pg::kernels
