// The reference GEMM: the definition, one dot product per output, accumulated in double.
#include <cstdint>

#include "kernels/cpu/gemm.h"

namespace pg::kernels {

void gemm_reference(int M, int N, int K, const float* A, const float* B, float* C, const GemmParams& p) {
  const int lda = p.lda ? p.lda : (p.trans_a ? M : K);
  const int ldb = p.ldb ? p.ldb : (p.trans_b ? K : N);
  const int ldc = p.ldc ? p.ldc : N;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int k = 0; k < K; ++k) {
        float a = p.trans_a ? A[int64_t{k} * lda + i] : A[int64_t{i} * lda + k];
        float b = p.trans_b ? B[int64_t{j} * ldb + k] : B[int64_t{k} * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      float& c = C[int64_t{i} * ldc + j];
      c = p.alpha * static_cast<float>(acc) + (p.beta == 0.0f ? 0.0f : p.beta * c);
    }
  }
}

}  // namespace pg::kernels
