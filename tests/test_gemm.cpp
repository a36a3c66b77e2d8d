// The blocked GEMM (kernels/cpu/gemm.cpp) against gemm_reference over a grid of shapes, all four
// transpose combinations, leading dimensions wider than the matrices, alpha and beta; the K = 0
// and beta = 0 contracts; hand-computed products; thread-count independence and nested OpenMP.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "tests/test_util.h"

using namespace pg;
using pg::kernels::gemm;
using pg::kernels::gemm_reference;
using pg::kernels::GemmParams;

namespace {

struct Case {
  int M, N, K;
  GemmParams p;
  int extra_ld = 0;  // added to every default leading dimension (then passed explicitly)
  std::string name() const {
    return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
           " ta=" + std::to_string(p.trans_a) + " tb=" + std::to_string(p.trans_b) +
           " alpha=" + std::to_string(p.alpha) + " beta=" + std::to_string(p.beta) +
           " extra_ld=" + std::to_string(extra_ld);
  }
};

// Inputs of one case: A, B, and C as stored (with their leading dimensions), C random.
struct Operands {
  GemmParams p;
  std::vector<float> a, b, c;
};

Operands make_operands(const Case& cs, Rng& rng) {
  Operands op{cs.p, {}, {}, {}};
  const int a_rows = cs.p.trans_a ? cs.K : cs.M, a_cols = cs.p.trans_a ? cs.M : cs.K;
  const int b_rows = cs.p.trans_b ? cs.N : cs.K, b_cols = cs.p.trans_b ? cs.K : cs.N;
  if (cs.extra_ld) {
    op.p.lda = a_cols + cs.extra_ld;
    op.p.ldb = b_cols + cs.extra_ld;
    op.p.ldc = cs.N + cs.extra_ld;
  }
  const int lda = op.p.lda ? op.p.lda : a_cols, ldb = op.p.ldb ? op.p.ldb : b_cols;
  const int ldc = op.p.ldc ? op.p.ldc : cs.N;
  op.a = test::random_vector(static_cast<size_t>(a_rows) * lda, rng);
  op.b = test::random_vector(static_cast<size_t>(b_rows) * ldb, rng);
  op.c = test::random_vector(static_cast<size_t>(cs.M) * ldc, rng);
  return op;
}

// Float accumulation over K terms of size ≤ 1: the error grows with K (the reference sums in
// double, so it is the exact answer to float precision).
float tolerance_for(int K) {
  return 1e-6f * (K + 8);
}

void expect_matches_reference(const Case& cs, Rng& rng) {
  Operands op = make_operands(cs, rng);
  std::vector<float> expected = op.c;
  gemm(cs.M, cs.N, cs.K, op.a.data(), op.b.data(), op.c.data(), op.p);
  gemm_reference(cs.M, cs.N, cs.K, op.a.data(), op.b.data(), expected.data(), op.p);
  // The padding between rows of C (when ldc > N) must be left untouched, and is compared too.
  test::expect_close(op.c.data(), expected.data(), static_cast<int64_t>(op.c.size()), 1e-5f,
                     tolerance_for(cs.K), cs.name());
}

TEST(Gemm, MatchesReferenceOverGrid) {
  Rng rng(7);
  const int sizes[] = {1, 7, 13, 33, 65};
  int count = 0;
  for (int M : sizes)
    for (int N : sizes)
      for (int K : sizes)
        for (int transpose = 0; transpose < 4; ++transpose) {
          // Cycle alpha, beta and the leading-dimension padding through the grid.
          const float alphas[] = {1.0f, 0.7f, -1.5f};
          const float betas[] = {0.0f, 1.0f, 0.5f};
          GemmParams p{.trans_a = (transpose & 1) != 0,
                       .trans_b = (transpose & 2) != 0,
                       .alpha = alphas[count % 3],
                       .beta = betas[(count / 3) % 3]};
          expect_matches_reference(Case{M, N, K, p, (count % 4 == 1) ? 3 : 0}, rng);
          ++count;
        }
}

// Sizes past one cache block in every dimension (MC = 192, NC = 512, KC = 384), odd everywhere.
TEST(Gemm, MatchesReferenceOnLargerShapes) {
  Rng rng(11);
  const Case cases[] = {
      {300, 257, 130, {}},
      {129, 129, 129, {.trans_a = true, .alpha = 0.5f, .beta = 1.0f}},
      {201, 70, 300, {.trans_b = true, .beta = 0.5f}, 5},
      {16, 1100, 144, {.trans_a = true, .trans_b = true, .alpha = 2.0f}},
      {260, 33, 520, {.trans_a = true, .trans_b = true, .alpha = -1.0f, .beta = 0.5f}, 1},
  };
  for (const Case& cs : cases) expect_matches_reference(cs, rng);
}

// A product small enough to do by hand, with every transpose: [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50].
TEST(Gemm, HandComputedTwoByTwo) {
  const float a[] = {1, 2, 3, 4}, a_t[] = {1, 3, 2, 4};
  const float b[] = {5, 6, 7, 8}, b_t[] = {5, 7, 6, 8};
  const float expected[] = {19, 22, 43, 50};
  for (int transpose = 0; transpose < 4; ++transpose) {
    const bool ta = transpose & 1, tb = transpose & 2;
    float c[4] = {100, 100, 100, 100};
    gemm(2, 2, 2, ta ? a_t : a, tb ? b_t : b, c, {.trans_a = ta, .trans_b = tb, .alpha = 2.0f, .beta = 0.5f});
    for (int i = 0; i < 4; ++i) EXPECT_EQ(c[i], 2.0f * expected[i] + 50.0f) << "transpose " << transpose;
  }
}

TEST(Gemm, BetaZeroNeverReadsC) {
  Rng rng(3);
  const int M = 37, N = 45, K = 19;
  for (int transpose = 0; transpose < 4; ++transpose) {
    GemmParams p{.trans_a = (transpose & 1) != 0, .trans_b = (transpose & 2) != 0, .alpha = 1.3f};
    std::vector<float> a = test::random_vector(M * K, rng), b = test::random_vector(K * N, rng);
    std::vector<float> c(M * N, std::numeric_limits<float>::quiet_NaN()), expected(M * N, 0.0f);
    gemm(M, N, K, a.data(), b.data(), c.data(), p);
    gemm_reference(M, N, K, a.data(), b.data(), expected.data(), p);
    test::expect_close(c.data(), expected.data(), M * N, 1e-5f, tolerance_for(K), "NaN-filled C, beta = 0");
  }
}

TEST(Gemm, EmptyKScalesC) {
  std::vector<float> c = {1.0f, -2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  gemm(2, 3, 0, nullptr, nullptr, c.data(), {.beta = 0.5f});
  const std::vector<float> halved = {0.5f, -1.0f, 1.5f, 2.0f, 2.5f, 3.0f};
  EXPECT_EQ(c, halved);
  std::vector<float> garbage(6, std::numeric_limits<float>::quiet_NaN());
  gemm(2, 3, 0, nullptr, nullptr, garbage.data(), {.alpha = 2.0f, .beta = 0.0f});
  EXPECT_EQ(garbage, std::vector<float>(6, 0.0f));
}

TEST(Gemm, EmptyMOrNTouchesNothing) {
  float c = 42.0f;
  const float one = 1.0f;
  gemm(0, 1, 1, &one, &one, &c, {});
  gemm(1, 0, 1, &one, &one, &c, {});
  EXPECT_EQ(c, 42.0f);
}

// The thread grid never changes which tiles and K blocks an element of C sees, so one and two
// threads must agree bit for bit (a stricter check than "within float rounding").
TEST(Gemm, ThreadCountDoesNotChangeResult) {
  Rng rng(5);
  const Case cases[] = {
      {16, 1000, 144, {}}, {300, 40, 270, {.trans_b = true, .beta = 0.5f}}, {129, 131, 65, {}}};
  const int saved_threads = omp_get_max_threads();
  for (const Case& cs : cases) {
    Operands op = make_operands(cs, rng);
    std::vector<float> two_threads = op.c;
    omp_set_num_threads(1);
    gemm(cs.M, cs.N, cs.K, op.a.data(), op.b.data(), op.c.data(), op.p);
    omp_set_num_threads(2);
    gemm(cs.M, cs.N, cs.K, op.a.data(), op.b.data(), two_threads.data(), op.p);
    EXPECT_EQ(op.c, two_threads) << cs.name();
  }
  omp_set_num_threads(saved_threads);
}

// Called from inside a parallel region, each call runs on its own thread and stays correct.
TEST(Gemm, InsideOuterParallelRegion) {
  Rng rng(9);
  const int M = 70, N = 90, K = 50, calls = 4;
  std::vector<float> a = test::random_vector(M * K, rng), b = test::random_vector(K * N, rng);
  std::vector<std::vector<float>> c(calls, std::vector<float>(M * N));
  std::vector<float> expected(M * N);
  gemm_reference(M, N, K, a.data(), b.data(), expected.data(), {});
#pragma omp parallel for num_threads(2)
  for (int call = 0; call < calls; ++call) gemm(M, N, K, a.data(), b.data(), c[call].data(), {});
  for (int call = 0; call < calls; ++call)
    test::expect_close(c[call].data(), expected.data(), M * N, 1e-5f, tolerance_for(K), "nested call");
}

}  // namespace
