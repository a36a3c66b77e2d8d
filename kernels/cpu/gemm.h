// GEMM, the one matrix multiply every convolution reduces to:
//   C (M×N) = alpha · op(A) (M×K) · op(B) (K×N) + beta · C,   all row-major,
// where op(A) = A or Aᵀ (A stored K×M) and likewise for B. Leading dimensions default to the
// packed row length (K or M for A, N or K for B, N for C). With beta = 0, C is only written.
#pragma once

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
// The reference: the triple loop, in double precision accumulators. gemm computes the same.
void gemm_reference(int M, int N, int K, const float* A, const float* B, float* C, const GemmParams& p = {});

}  // namespace pg::kernels
