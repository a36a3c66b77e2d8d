// The fast GEMM: C = alpha · op(A) · op(B) + beta · C with packed panels, cache blocking, a
// register-blocked SIMD micro-kernel (kernels/cpu/gemm_microkernel.h) and OpenMP threads.
// gemm_reference (kernels/cpu/gemm_reference.cpp) computes the same thing with a plain triple loop.
//
// The loop nest (the Goto / BLIS structure), outermost first, for one thread's block of C:
//   1. jc: columns of C in blocks of NC.
//   2. pc: the K dimension in blocks of KC. Pack op(B)[pc:pc+KC, jc:jc+NC] into NR-column
//      micro-panels (each KC × NR, row by row), zero-padded to a multiple of NR columns.
//   3. ic: rows of C in blocks of MC. Pack op(A)[ic:ic+MC, pc:pc+KC] into MR-row micro-panels
//      (each KC × MR, column by column), zero-padded to a multiple of MR rows.
//   4. ir: one A micro-panel at a time (MR rows); it stays in L1 for the whole jr loop.
//   5. jr: one B micro-panel at a time (NR columns), read from the packed B block in L2.
//   6. the micro-kernel: an MR × NR tile of C accumulated in registers over KC rank-1 updates.
// Packing turns every transpose and leading dimension into the same contiguous, aligned layout,
// so the micro-kernel streams through memory with unit stride and never branches on layout.
// beta applies on the first K block only; later K blocks add onto C (beta = 1).
// ir runs outside jr so that one jr sweep writes C tiles within the same MR rows: the other
// order walks down MC rows of C, one 4 KiB page per row when C is wide, and measured 15%
// slower on 2048² from TLB misses.
//
// Block sizes (Intel Xeon with AVX-512: 48 KiB L1d and 2 MiB L2 per core), for MR×NR = 8×32,
// each an upper bound: the actual blocks split M, N and K evenly (balanced_block).
//   KC = 384: an A micro-panel is 384 · 8 · 4 B = 12 KiB, at home in L1 while B micro-panels
//             stream past it; C is loaded and stored once per K block, so a long KC amortizes it.
//   NC = 512: the packed B block, 384 · 512 · 4 B = 768 KiB, stays in the 2 MiB L2 for all the
//             ir sweeps over it; for the small-M convolution shapes the C block (M · NC) stays
//             in L2 across the K blocks too.
//   MC = 192: bounds the packed A block (288 KiB); it is read once per (jc, pc, ic), so its size
//             matters little.
// Measured on this machine (1 thread): KC 256–512, MC 96–384 and NC 384–1024 are within the
// noise (~3%) of each other; NC = 2048 (the B block near all of L2) loses 10–20%.
//
// Threads: C is cut into a grid of mt × nt blocks, one per thread, each computed independently
// with its own packing buffers (each core packs into its own L2). The grid is the one that packs
// least (each thread packs its rows of A and its columns of B: nt·M·K + mt·N·K floats), so the
// small-M, huge-N convolution shapes split over N and tall ones over M. Block edges fall on
// multiples of MR and NR, so every element of C sees the same tiles and the same K blocks for any
// thread count: the result is bitwise independent of the thread count. Called from inside an
// OpenMP parallel region, the GEMM runs single-threaded.
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_microkernel.h"
#include "kernels/cpu/transpose_8x8.h"

namespace pg::kernels {
namespace {

using gemm_detail::kMR;
using gemm_detail::kNR;
using gemm_detail::microkernel;
using gemm_detail::TileOutput;

constexpr int kKC = 384;
constexpr int kMC = 192;
constexpr int kNC = 512;
static_assert(kMC % kMR == 0 && kNC % kNR == 0, "blocks must hold whole micro-panels");

// Below this many multiply-adds per thread, starting threads costs more than it saves. Larger
// than kMinWorkForThreads (parallel.h) on purpose: this decides how many threads share one GEMM,
// and each must get enough work to amortise packing its own panels of A and B as well.
constexpr double kMinMultiplyAddsPerThread = 64.0 * 64.0 * 64.0;

// A read-only matrix that may be stored transposed: address(r, c) locates element (r, c) of the
// logical matrix, at data[r·ld + c], or at data[c·ld + r] when transposed.
struct MatrixView {
  const float* data;
  int ld;
  bool transposed;
  const float* address(int r, int c) const {
    return transposed ? data + static_cast<ptrdiff_t>(c) * ld + r : data + static_cast<ptrdiff_t>(r) * ld + c;
  }
};

// One panel from rows that are contiguous along k: panel[k·W + i] = row_i[k], i < width.
// This is a transpose; with AVX2 it goes 8 rows × 8 k at a time through registers.
template <int W>
void pack_panel_transposing(const MatrixView& src, int r, int width, int k0, int kc, float* panel) {
  int i = 0;
#if defined(__AVX2__)
  if constexpr (W % 8 == 0) {
    for (; i + 8 <= width; i += 8) {
      const float* rows[8];
      for (int j = 0; j < 8; ++j) rows[j] = src.address(r + i + j, k0);
      int k = 0;
      for (; k + 8 <= kc; k += 8) transpose_8x8(rows, k, panel + k * W + i, W);
      for (; k < kc; ++k)
        for (int j = 0; j < 8; ++j) panel[k * W + i + j] = rows[j][k];
    }
  }
#endif
  for (; i < width; ++i) {
    const float* row = src.address(r + i, k0);
    for (int k = 0; k < kc; ++k) panel[k * W + i] = row[k];
  }
}

// Packs rows [r0, r0 + rows) × columns [k0, k0 + kc) of src into panels of W rows each:
//   dst: (ceil(rows / W), kc, W), dst[p][k][i] = src(r0 + p·W + i, k0 + k), zero past `rows`.
// Both operands use it: A as op(A) (M × K), B as op(B)ᵀ (N × K), so a B panel holds, for each
// k, NR consecutive columns of op(B). Both paths read memory in address order, which keeps the
// hardware prefetchers streaming even when the leading dimension is large.
template <int W>
void pack_panels(const MatrixView& src, int r0, int rows, int k0, int kc, float* dst) {
  const ptrdiff_t panel_size = static_cast<ptrdiff_t>(W) * kc;
  if (src.transposed) {
    // For each k, the `rows` values are contiguous: deal them out W at a time, one per panel.
    for (int k = 0; k < kc; ++k) {
      const float* line = src.address(r0, k0 + k);
      for (int p = 0; p < rows; p += W) {
        const int width = std::min(W, rows - p);
        float* out = dst + (p / W) * panel_size + k * W;
        if (width == W) {
          // memcpy of a fixed size compiles to a few vector moves; std::copy_n, even of a fixed
          // size, calls memmove (it must allow for overlap), which costs more than the copy.
          std::memcpy(out, line + p, W * sizeof(float));
        } else {
          std::copy_n(line + p, width, out);
          std::fill(out + width, out + W, 0.0f);
        }
      }
    }
  } else {
    for (int p = 0; p < rows; p += W) {
      const int width = std::min(W, rows - p);
      float* panel = dst + (p / W) * panel_size;
      if (width < W) std::fill(panel, panel + panel_size, 0.0f);
      pack_panel_transposing<W>(src, r0 + p, width, k0, kc, panel);
    }
  }
}

// A 64-byte aligned scratch buffer that only grows, kept per thread (thread_local) so repeated
// GEMM calls reuse their packing memory instead of allocating and page-faulting each time.
class ScratchBuffer {
 public:
  ~ScratchBuffer() { std::free(data_); }
  float* get(size_t count) {
    if (count > capacity_) {
      std::free(data_);
      data_ = nullptr, capacity_ = 0;
      const size_t rounded = (count + 15) / 16 * 16;  // aligned_alloc wants a multiple of 64 bytes
      data_ = static_cast<float*>(std::aligned_alloc(64, rounded * sizeof(float)));
      if (!data_) throw std::bad_alloc();
      capacity_ = rounded;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

struct Workspace {
  ScratchBuffer a_panels;  // packed A block: (MC / MR, KC, MR)
  ScratchBuffer b_panels;  // packed B block: (NC / NR, KC, NR)
};

// A stored op(B), seen as op(B)ᵀ (N × K) so that its panels pack like A's rows.
class MatrixPanels final : public PanelSource {
 public:
  explicit MatrixPanels(MatrixView bt) : bt_(bt) {}
  void pack(int k0, int kc, int n0, int nc, float* panels) const override {
    pack_panels<kNR>(bt_, n0, nc, k0, kc, panels);
  }

 private:
  MatrixView bt_;
};

// The whole problem, with leading dimensions resolved.
struct Problem {
  int M, N, K;
  MatrixView a;         // op(A): M × K
  const PanelSource* b;  // op(B): K × N, packed on demand
  float* c;             // M × N, row stride ldc
  int ldc;
  float alpha, beta;
};

// A tile that sticks out of C: computed whole into a temporary, then its valid part is written.
void edge_tile(int kc, const float* a, const float* b, int rows, int cols, const TileOutput& out) {
  alignas(64) float tile[kMR * kNR];
  microkernel(kc, a, b, TileOutput{tile, kNR, 1.0f, 0.0f});
  for (int r = 0; r < rows; ++r) {
    float* c = out.c + static_cast<ptrdiff_t>(r) * out.ldc;
    for (int j = 0; j < cols; ++j)
      c[j] = out.alpha * tile[r * kNR + j] + (out.beta != 0.0f ? out.beta * c[j] : 0.0f);
  }
}

// Loops 4 and 5: every MR × NR tile of one mc × nc block of C from the packed blocks.
void macro_kernel(int mc, int nc, int kc, const float* a_panels, const float* b_panels,
                  const TileOutput& block) {
  for (int ir = 0; ir < mc; ir += kMR) {
    const float* a = a_panels + static_cast<ptrdiff_t>(ir) * kc;
    for (int jr = 0; jr < nc; jr += kNR) {
      const float* b = b_panels + static_cast<ptrdiff_t>(jr) * kc;
      TileOutput tile{block.c + static_cast<ptrdiff_t>(ir) * block.ldc + jr, block.ldc, block.alpha,
                      block.beta};
      const int rows = std::min(kMR, mc - ir), cols = std::min(kNR, nc - jr);
      if (rows == kMR && cols == kNR)
        microkernel(kc, a, b, tile);
      else
        edge_tile(kc, a, b, rows, cols, tile);
    }
  }
}

// The block size that cuts `extent` into the fewest blocks of at most `max_block`, all of
// about equal size (a multiple of `unit`): K = 576 becomes 3 × 192, not 256 + 256 + 64, so no
// block is left with too little work to amortize its C loads and stores.
int balanced_block(int extent, int max_block, int unit) {
  const int blocks = (extent + max_block - 1) / max_block;
  const int size = (extent + blocks - 1) / blocks;
  return (size + unit - 1) / unit * unit;
}

// Loops 1 to 3 for the block C[m0:m1, n0:n1], all of K, on the calling thread.
void gemm_block(const Problem& pb, int m0, int m1, int n0, int n1, Workspace& ws) {
  const int kc_block = balanced_block(pb.K, kKC, 1);
  const int mc_block = balanced_block(m1 - m0, kMC, kMR);
  const int nc_block = balanced_block(n1 - n0, kNC, kNR);
  float* b_panels = ws.b_panels.get(static_cast<size_t>(kc_block) * nc_block);
  float* a_panels = ws.a_panels.get(static_cast<size_t>(kc_block) * mc_block);
  for (int jc = n0; jc < n1; jc += nc_block) {
    const int nc = std::min(nc_block, n1 - jc);
    for (int pc = 0; pc < pb.K; pc += kc_block) {
      const int kc = std::min(kc_block, pb.K - pc);
      const float beta = pc == 0 ? pb.beta : 1.0f;
      pb.b->pack(pc, kc, jc, nc, b_panels);
      for (int ic = m0; ic < m1; ic += mc_block) {
        const int mc = std::min(mc_block, m1 - ic);
        pack_panels<kMR>(pb.a, ic, mc, pc, kc, a_panels);
        float* c = pb.c + static_cast<ptrdiff_t>(ic) * pb.ldc + jc;
        macro_kernel(mc, nc, kc, a_panels, b_panels, TileOutput{c, pb.ldc, pb.alpha, beta});
      }
    }
  }
}

// K = 0: the product is empty, so C = beta · C (and C = 0 when beta = 0, without reading it).
void scale_c(int M, int N, float* C, int ldc, float beta) {
  for (int i = 0; i < M; ++i) {
    float* row = C + static_cast<ptrdiff_t>(i) * ldc;
    for (int j = 0; j < N; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
  }
}

// The mt × nt thread grid (mt · nt = threads) that packs the fewest floats, nt·M + mt·N per K,
// among those that give every thread at least one micro-panel of rows and of columns.
struct ThreadGrid {
  int mt = 1, nt = 1;
};
ThreadGrid choose_thread_grid(int M, int N, int threads) {
  const int row_panels = (M + kMR - 1) / kMR, col_panels = (N + kNR - 1) / kNR;
  for (; threads > 1; --threads) {
    ThreadGrid best{0, 0};
    double best_cost = 0.0;
    for (int mt = 1; mt <= threads; ++mt) {
      const int nt = threads / mt;
      if (mt * nt != threads || mt > row_panels || nt > col_panels) continue;
      const double cost = static_cast<double>(nt) * M + static_cast<double>(mt) * N;
      if (best.mt == 0 || cost < best_cost) best = {mt, nt}, best_cost = cost;
    }
    if (best.mt != 0) return best;
  }
  return {};
}

// Part `index` of `parts` of [0, extent), cut on multiples of `unit` (a micro-panel size).
int split_point(int extent, int unit, int parts, int index) {
  const int units = (extent + unit - 1) / unit;
  return std::min(extent, static_cast<int>(static_cast<long long>(units) * index / parts) * unit);
}

int threads_for(int M, int N, int K) {
  if (omp_in_parallel()) return 1;  // nested inside an outer parallel region: stay on this thread
  const double multiply_adds = static_cast<double>(M) * N * K;
  const int useful = static_cast<int>(std::max(1.0, multiply_adds / kMinMultiplyAddsPerThread));
  return std::min(omp_get_max_threads(), useful);
}

}  // namespace

void gemm(int M, int N, int K, const float* A, const PanelSource& B, float* C, const GemmParams& p) {
  const int ldc = p.ldc ? p.ldc : N;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return scale_c(M, N, C, ldc, p.beta);
  const int lda = p.lda ? p.lda : (p.trans_a ? M : K);
  const Problem pb{M, N, K, MatrixView{A, lda, p.trans_a}, &B, C, ldc, p.alpha, p.beta};
  const ThreadGrid grid = choose_thread_grid(M, N, threads_for(M, N, K));
  const int blocks = grid.mt * grid.nt;
  auto run_block = [&](int index) {
    thread_local Workspace workspace;
    const int im = index / grid.nt, in = index % grid.nt;
    gemm_block(pb, split_point(M, kMR, grid.mt, im), split_point(M, kMR, grid.mt, im + 1),
               split_point(N, kNR, grid.nt, in), split_point(N, kNR, grid.nt, in + 1), workspace);
  };
  if (blocks == 1) return run_block(0);
#pragma omp parallel for num_threads(blocks) schedule(static, 1)
  for (int index = 0; index < blocks; ++index) run_block(index);
}

void gemm(int M, int N, int K, const float* A, const float* B, float* C, const GemmParams& p) {
  const int ldb = p.ldb ? p.ldb : (p.trans_b ? K : N);
  // op(B)ᵀ(j, k) = op(B)(k, j): stored at B[j·ldb + k] when trans_b, else at B[k·ldb + j].
  gemm(M, N, K, A, MatrixPanels(MatrixView{B, ldb, !p.trans_b}), C, p);
}

}  // namespace pg::kernels
