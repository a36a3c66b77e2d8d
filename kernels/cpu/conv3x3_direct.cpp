// The direct 3×3 same convolution (see conv3x3_direct.h): one correlation loop that serves the
// forward (weight as is) and the backward-data (weight transposed and flipped), and the
// weight gradient's loop beside it.
//   out[n, k, i, j] (= or +=) bias[k] + Σ_{c, u, v} w'[k, c, u, v] · in[n, c, i + u − 1, j + v − 1]
// Why it is fast: a register tile of 4 output channels × 3 vectors of 8 columns (12 AVX2
// accumulators) is summed over every (c, u, v) before it is stored; each input row segment is
// one unaligned load from a zero-bordered copy of the image (so the padding needs no branch or
// mask), shifted by v, and each weight one broadcast: 3 loads and 4 broadcasts feed 12 FMAs, and nothing is written
// but the output. im2col instead writes and re-reads 9·C·H·W floats and the GEMM packs them once
// more, which on few channels costs more than the FMAs. The bordered copy is one pass over the
// image per thread, against 9 multiply-adds per input value and output channel.
// The weight gradient is a tile of its own (4 output channels × 3 column shifts), the same
// loads, summed over the image instead of over the channels.
#include "kernels/cpu/conv3x3_direct.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/conv.h"
#include "kernels/cpu/parallel.h"

namespace pg::kernels {

bool conv3x3_direct_applies(const ConvGeometry& g) {
#if defined(__AVX2__) && defined(__FMA__)
  return g.kernel_h == 3 && g.kernel_w == 3 && g.stride == 1 && g.dilation == 1 && g.groups == 1 &&
         g.pad_top == 1 && g.pad_left == 1 && g.pad_bottom == 1 && g.pad_right == 1 && g.out_h == g.in_h &&
         g.out_w == g.in_w && g.in_channels <= kDirectMaxChannels && g.out_channels <= kDirectMaxChannels;
#else
  (void)g;
  return false;
#endif
}

#if defined(__AVX2__) && defined(__FMA__)

namespace {

constexpr int kLanes = 8;
constexpr int kChannelBlock = 4;  // output channels per register tile
constexpr int kMaxVectors = 3;    // 8-column output vectors per register tile

// The sizes of one correlation: in (batch, in_channels, h, w) → out (batch, out_channels, h, w),
// and the zero-bordered copy of one image's input: (in_channels, h + 2, bordered_w), the image at
// rows and columns 1.., zeros around it and past it up to bordered_w (which holds the widest
// shifted load, columns up to round_up(w, 8) + 1).
struct Correlation {
  int batch, in_channels, out_channels, h, w;
  int channel_blocks() const { return (out_channels + kChannelBlock - 1) / kChannelBlock; }
  int64_t plane() const { return static_cast<int64_t>(h) * w; }
  int bordered_w() const { return (w + kLanes - 1) / kLanes * kLanes + kLanes; }
  int64_t bordered_floats() const { return static_cast<int64_t>(in_channels) * (h + 2) * bordered_w(); }
};

// The interior of bordered (channels, h + 2, bordered_w) = in (channels, h, w). The border is
// never written: zero from the buffer's allocation, it stays zero for every image copied in.
void copy_into_border(const Correlation& s, int channels, const float* in, float* bordered) {
  const int bw = s.bordered_w();
  for (int c = 0; c < channels; ++c)
    for (int r = 0; r < s.h; ++r)
      std::copy_n(in + (static_cast<int64_t>(c) * s.h + r) * s.w, s.w,
                  bordered + (static_cast<int64_t>(c) * (s.h + 2) + r + 1) * bw + 1);
}

// The lanes of a vector from column j0 that lie before column w, as a maskload/maskstore mask.
__m256i lanes_before(int j0, int w) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(w - j0), lane);
}

// One register tile: output channels [kb·4, kb·4 + 4) ∩ [0, out_channels) at V consecutive
// output vectors t0, t0 + 1, ... of the map's row-major sequence of 8-column vectors (vector t
// is row t / vectors_per_row, columns from 8·(t % vectors_per_row), masked at w). A tile may
// span rows, so that a 16-wide map (two vectors a row) still fills all 12 accumulators.
// packed: (C, 3, 3, 4), this block's weights, zero past out_channels; bordered: one image's
// bordered input; out: (out_channels, h, w) of the same image.
template <int V>
void correlate_tile(const Correlation& s, const float* bordered, const float* packed, const float* bias, int kb,
                    int t0, bool accumulate, float* out) {
  const int k0 = kb * kChannelBlock, kcount = std::min(kChannelBlock, s.out_channels - k0);
  const int bw = s.bordered_w(), vectors_per_row = (s.w + kLanes - 1) / kLanes;
  __m256i mask[V];
  int64_t in_offset[V], out_offset[V];  // output (i, j) reads bordered rows i + u, columns j + v
  for (int q = 0; q < V; ++q) {
    const int i = (t0 + q) / vectors_per_row, j0 = (t0 + q) % vectors_per_row * kLanes;
    mask[q] = lanes_before(j0, s.w);
    in_offset[q] = static_cast<int64_t>(i) * bw + j0;
    out_offset[q] = static_cast<int64_t>(k0) * s.plane() + static_cast<int64_t>(i) * s.w + j0;
  }
  __m256 acc[kChannelBlock][V];
#pragma GCC unroll 4
  for (int k = 0; k < kChannelBlock; ++k)
#pragma GCC unroll 3
    for (int q = 0; q < V; ++q)
      acc[k][q] = k >= kcount ? _mm256_setzero_ps()
                  : accumulate
                      ? _mm256_maskload_ps(out + out_offset[q] + k * s.plane(), mask[q])
                      : _mm256_set1_ps(bias ? bias[k0 + k] : 0.0f);
  for (int c = 0; c < s.in_channels; ++c)
#pragma GCC unroll 3
    for (int u = 0; u < 3; ++u) {
      const float* in_row = bordered + (static_cast<int64_t>(c) * (s.h + 2) + u) * bw;
      const float* w_u = packed + (c * 3 + u) * 3 * kChannelBlock;  // (3, 4): v, then channel
#pragma GCC unroll 3
      for (int v = 0; v < 3; ++v) {
        __m256 x[V];
#pragma GCC unroll 3
        for (int q = 0; q < V; ++q) x[q] = _mm256_loadu_ps(in_row + in_offset[q] + v);
#pragma GCC unroll 4
        for (int k = 0; k < kChannelBlock; ++k) {
          const __m256 weight = _mm256_broadcast_ss(w_u + v * kChannelBlock + k);
#pragma GCC unroll 3
          for (int q = 0; q < V; ++q) acc[k][q] = _mm256_fmadd_ps(weight, x[q], acc[k][q]);
        }
      }
    }
  for (int k = 0; k < kcount; ++k)
    for (int q = 0; q < V; ++q) _mm256_maskstore_ps(out + out_offset[q] + k * s.plane(), mask[q], acc[k][q]);
}

// out (=, or += with accumulate) bias + in ⋆ w' for every image; packed: (channel_blocks, C, 3, 3, 4).
// Tasks are (image, channel block) pairs, so a batch of one still spreads over the threads; each
// thread keeps the bordered copy of its last image, which its next task most often shares.
void correlate(const Correlation& s, const float* in, const float* packed, const float* bias, bool accumulate,
               float* out) {
  const int blocks = s.channel_blocks();
  const int vectors = s.h * ((s.w + kLanes - 1) / kLanes);  // output vectors per map
  const int64_t macs = static_cast<int64_t>(s.batch) * s.out_channels * s.in_channels * 9 * s.plane();
#pragma omp parallel if (worth_threads(macs))
  {
    std::vector<float> bordered(s.bordered_floats(), 0.0f);
    int bordered_image = -1;
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < s.batch; ++n)
      for (int kb = 0; kb < blocks; ++kb) {
        if (n != bordered_image)
          copy_into_border(s, s.in_channels, in + static_cast<int64_t>(n) * s.in_channels * s.plane(),
                           bordered.data());
        bordered_image = n;
        float* out_n = out + static_cast<int64_t>(n) * s.out_channels * s.plane();
        const float* packed_kb = packed + static_cast<int64_t>(kb) * s.in_channels * 9 * kChannelBlock;
        int t = 0;
        for (; t + kMaxVectors <= vectors; t += kMaxVectors)
          correlate_tile<kMaxVectors>(s, bordered.data(), packed_kb, bias, kb, t, accumulate, out_n);
        if (vectors - t == 2) correlate_tile<2>(s, bordered.data(), packed_kb, bias, kb, t, accumulate, out_n);
        if (vectors - t == 1) correlate_tile<1>(s, bordered.data(), packed_kb, bias, kb, t, accumulate, out_n);
      }
  }
}

// The weight gradient of one (channel block kb, input channel c) pair, summed over the batch:
//   dw[k, c, u, v] += Σ_{n, i, j} dy[n, k, i, j] · x_bordered[n, c, i + u, j + v],  k in the block.
// 12 accumulators, 4 channels × 3 column shifts v, per image and kernel row u, added into
// `partial` (u, k, v, lane), whose lanes are summed once at the end.
// bordered_channel: input channel c of every image, zero-bordered, (N, h + 2, bordered_w);
// zero_row: round_up(w, 8) zeros, the dy row of the channels past out_channels in the last block.
void weight_gradient_task(const Correlation& s, const float* bordered_channel, const float* dy, int kb, int c,
                          const float* zero_row, float* dweight) {
  const int k0 = kb * kChannelBlock, kcount = std::min(kChannelBlock, s.out_channels - k0);
  const int bw = s.bordered_w();
  const __m256i tail_mask = lanes_before(s.w / kLanes * kLanes, s.w);
  alignas(32) float partial[3][kChannelBlock][3][kLanes] = {};
  for (int n = 0; n < s.batch; ++n) {
    const float* plane = bordered_channel + static_cast<int64_t>(n) * (s.h + 2) * bw;
    const float* dy_n = dy + static_cast<int64_t>(n) * s.out_channels * s.plane();
    for (int u = 0; u < 3; ++u) {
      __m256 acc[kChannelBlock][3];  // this image's sums, added to partial after (smaller rounding error)
      for (int k = 0; k < kChannelBlock; ++k)
        for (int v = 0; v < 3; ++v) acc[k][v] = _mm256_setzero_ps();
      for (int i = 0; i < s.h; ++i) {
        const float* x_row = plane + static_cast<int64_t>(i + u) * bw;
        const float* dy_row[kChannelBlock];
        for (int k = 0; k < kChannelBlock; ++k)
          dy_row[k] = k < kcount ? dy_n + (k0 + k) * s.plane() + static_cast<int64_t>(i) * s.w : zero_row;
        for (int j0 = 0; j0 < s.w; j0 += kLanes) {
          const bool tail = j0 + kLanes > s.w;  // dy's lanes past w are zero, so are their products
          __m256 d[kChannelBlock];
#pragma GCC unroll 4
          for (int k = 0; k < kChannelBlock; ++k)
            d[k] = tail ? _mm256_maskload_ps(dy_row[k] + j0, tail_mask) : _mm256_loadu_ps(dy_row[k] + j0);
#pragma GCC unroll 3
          for (int v = 0; v < 3; ++v) {
            const __m256 xv = _mm256_loadu_ps(x_row + j0 + v);
#pragma GCC unroll 4
            for (int k = 0; k < kChannelBlock; ++k) acc[k][v] = _mm256_fmadd_ps(d[k], xv, acc[k][v]);
          }
        }
      }
      for (int k = 0; k < kChannelBlock; ++k)
        for (int v = 0; v < 3; ++v)
          _mm256_store_ps(partial[u][k][v], _mm256_add_ps(_mm256_load_ps(partial[u][k][v]), acc[k][v]));
    }
  }
  for (int k = 0; k < kcount; ++k)
    for (int u = 0; u < 3; ++u)
      for (int v = 0; v < 3; ++v) {
        float total = 0.0f;
        for (int l = 0; l < kLanes; ++l) total += partial[u][k][v][l];
        dweight[(((k0 + k) * s.in_channels + c) * 3 + u) * 3 + v] += total;
      }
}

// Packs w'[k, c, u, v] = weight_at(k, c, u, v) for k < out_channels (zeros beyond) into
// (channel_blocks, C, 3, 3, 4), the order correlate_tile reads it in.
template <typename WeightAt>
std::vector<float> pack_weights(const Correlation& s, WeightAt weight_at) {
  std::vector<float> packed(static_cast<size_t>(s.channel_blocks()) * s.in_channels * 9 * kChannelBlock, 0.0f);
  for (int k = 0; k < s.out_channels; ++k)
    for (int c = 0; c < s.in_channels; ++c)
      for (int u = 0; u < 3; ++u)
        for (int v = 0; v < 3; ++v) {
          const int kb = k / kChannelBlock, kk = k % kChannelBlock;
          packed[((static_cast<size_t>(kb) * s.in_channels + c) * 9 + u * 3 + v) * kChannelBlock + kk] =
              weight_at(k, c, u, v);
        }
  return packed;
}

}  // namespace

void conv3x3_direct_forward(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                            float* y) {
  const Correlation s{g.batch, g.in_channels, g.out_channels, g.in_h, g.in_w};
  // weight: (K, C, 3, 3)
  const std::vector<float> packed =
      pack_weights(s, [&](int k, int c, int u, int v) { return weight[((k * s.in_channels + c) * 3 + u) * 3 + v]; });
  correlate(s, x, packed.data(), bias, false, y);
}

void conv3x3_direct_backward_data(const ConvGeometry& g, const float* dy, const float* weight, float* dx) {
  // dx[n, c, h, w] += Σ_{k, u, v} w[k, c, u, v] · dy[n, k, h − u + 1, w − v + 1]: with u' = 2 − u
  // and v' = 2 − v, the correlation of dy with w'[c, k, u', v'] = w[k, c, 2 − u', 2 − v'].
  const Correlation s{g.batch, g.out_channels, g.in_channels, g.in_h, g.in_w};
  const std::vector<float> packed = pack_weights(s, [&](int c, int k, int u, int v) {
    return weight[((k * g.in_channels + c) * 3 + 2 - u) * 3 + 2 - v];
  });
  correlate(s, dy, packed.data(), nullptr, true, dx);
}

void conv3x3_direct_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                                    float* dbias) {
  const Correlation s{g.batch, g.in_channels, g.out_channels, g.in_h, g.in_w};
  const int blocks = s.channel_blocks();
  const int64_t macs = static_cast<int64_t>(s.batch) * s.out_channels * s.in_channels * 9 * s.plane();
  // Tasks are (input channel, channel block) pairs: each owns its slice of dweight, so there is
  // no partial sum to merge and the result does not depend on the thread count. A thread's
  // consecutive tasks mostly share the input channel, whose bordered copy it keeps.
  const Correlation one_channel{s.batch, 1, s.out_channels, s.h, s.w};  // (N, 1, h + 2, bordered_w)
#pragma omp parallel if (worth_threads(macs))
  {
    std::vector<float> bordered_channel(one_channel.bordered_floats() * s.batch, 0.0f);
    int bordered_c = -1;
    const std::vector<float> zero_row(s.bordered_w(), 0.0f);
#pragma omp for collapse(2) schedule(static)
    for (int c = 0; c < s.in_channels; ++c)
      for (int kb = 0; kb < blocks; ++kb) {
        if (c != bordered_c)
          for (int n = 0; n < s.batch; ++n)
            copy_into_border(one_channel, 1, x + (static_cast<int64_t>(n) * s.in_channels + c) * s.plane(),
                             bordered_channel.data() + n * one_channel.bordered_floats());
        bordered_c = c;
        weight_gradient_task(s, bordered_channel.data(), dy, kb, c, zero_row.data(), dweight);
      }
  }
  if (dbias) bias_backward(g.batch, g.out_channels, g.out_plane(), dy, dbias);
}

#else  // no AVX2: conv3x3_direct_applies says no; these stay correct through im2col + GEMM

void conv3x3_direct_forward(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                            float* y) {
  conv2d_forward(g, x, weight, bias, y);
}

void conv3x3_direct_backward_data(const ConvGeometry& g, const float* dy, const float* weight, float* dx) {
  conv2d_backward_data(g, dy, weight, dx);
}

void conv3x3_direct_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                                    float* dbias) {
  conv2d_backward_weight(g, x, dy, dweight, dbias);
}

#endif

}  // namespace pg::kernels
