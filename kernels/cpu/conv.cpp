// conv2d forward / backward-data / backward-weight through im2col + GEMM (see conv.h).
// Workspace: the forward and the weight gradient hold one padded image per thread (their column
// matrices go straight into the GEMM's panels), the weight gradient over the batch one partial dW
// per thread; the backward-data pass, where it goes through col2im, one column buffer of at most
// max_column_floats per thread (whole output rows of one image and one group).
#include "kernels/cpu/conv.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/im2col.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/transpose_8x8.h"

namespace pg::kernels {

namespace {

// Output rows per tile: as many as keep the column buffer (column_rows × rows·out_w) under the cap,
// at least one.
int rows_per_tile(const ConvGeometry& g, int64_t max_column_floats) {
  const int64_t floats_per_row = static_cast<int64_t>(g.column_rows()) * g.out_w;
  return static_cast<int>(std::clamp<int64_t>(max_column_floats / floats_per_row, 1, g.out_h));
}

int64_t workspace_floats(const ConvGeometry& g, int tile_rows) {
  if (g.is_pointwise_identity()) return 0;
  return static_cast<int64_t>(g.column_rows()) * tile_rows * g.out_w;
}

// Images in parallel when there is at least one per thread (and enough work); otherwise one image
// at a time and the GEMM spreads its work over the threads.
bool parallel_over_batch(const ConvGeometry& g) {
  const int threads = omp_get_max_threads();
  const int64_t macs = g.batch * g.out_plane() * g.out_channels * g.column_rows();
  return threads > 1 && g.batch >= threads && worth_threads(macs) && !omp_in_parallel();
}

// The pieces of one image n and one group gi, as pointers into the full buffers.
struct GroupSlice {
  int64_t x_offset;  // x[n, gi·Cg]: (Cg, H, W)
  int64_t y_offset;  // y[n, gi·Kg]: (Kg, Ho·Wo)
  int64_t w_offset;  // weight[gi·Kg]: (Kg, Cg·kh·kw)
};
GroupSlice group_slice(const ConvGeometry& g, int n, int gi) {
  const int64_t cg = g.in_channels_per_group(), kg = g.out_channels_per_group();
  return {(static_cast<int64_t>(n) * g.in_channels + gi * cg) * g.in_plane(),
          (static_cast<int64_t>(n) * g.out_channels + gi * kg) * g.out_plane(), gi * kg * g.column_rows()};
}

constexpr int kW = kGemmPanelWidth;

// The zero-padded image of one image and group (pad_image), in a buffer per thread that is kept
// and reused: the conv of every layer and every step would otherwise allocate and page-fault it.
const float* padded_image(const ConvGeometry& g, const float* image) {
  thread_local std::vector<float> buffer;
  const size_t floats = static_cast<size_t>(g.in_channels_per_group()) * padded_size(g).plane();
  if (buffer.size() < floats) buffer.resize(floats);
  pad_image(g, image, buffer.data());
  return buffer.data();
}

// Where column-matrix row r = (c, u, v) reads output pixel (0, 0) in the padded image; pixel
// (i, j) is at tap[(i·padded_w + j)·stride].
const float* tap_origin(const ConvGeometry& g, const PaddedSize& size, const float* padded, int r) {
  const int v = r % g.kernel_w, u = r / g.kernel_w % g.kernel_h, c = r / (g.kernel_w * g.kernel_h);
  return padded + c * size.plane() + static_cast<int64_t>(u) * g.dilation * size.w + v * g.dilation;
}

// The column matrix of one image and group as the GEMM's right-hand operand, never stored whole:
//   op(B) = columns (Cg·kh·kw × Ho·Wo),   op(B)(r, q) = im2col row r = (c, u, v) at output pixel q.
// The GEMM asks for one kc × nc block at a time; pack() gathers it from the padded image straight
// into the packed panels, which stay in L2 while every row of W_g meets them. Why it pays:
// each packed value is used only Kg times (64 in most layers), so a materialised column matrix
// (im2col writes Cg·kh·kw × Ho·Wo floats, the GEMM reads them back to pack them) costs as much
// as a good part of the multiply. Against the padded image there is no bounds test either:
// with stride 1, a panel row is a run of consecutive floats of one padded row, copied whole.
class ImageColumns final : public PanelSource {
 public:
  ImageColumns(const ConvGeometry& g, const float* padded) : g_(g), size_(padded_size(g)), padded_(padded) {}

  void pack(int k0, int kc, int n0, int nc, float* panels) const override {
    const int64_t panel_size = static_cast<int64_t>(kc) * kW;
    for (int k = 0; k < kc; ++k) {
      const float* tap = tap_origin(g_, size_, padded_, k0 + k);
      float* panel_row = panels + static_cast<int64_t>(k) * kW;  // row k of panel 0
      // Pixels n0 .. n0 + nc in pieces that lie in one output row and one panel.
      int i = n0 / g_.out_w, j = n0 % g_.out_w;
      for (int t = 0; t < nc;) {
        const int count = std::min({kW - t % kW, g_.out_w - j, nc - t});
        const float* src = tap + (static_cast<int64_t>(i) * size_.w + j) * g_.stride;
        float* out = panel_row + (t / kW) * panel_size + t % kW;
        if (g_.stride == 1 && count == kW) {
          // memcpy of a compile-time size (no overlap to allow for) compiles to a few vector
          // moves; std::copy_n calls memmove, which takes as long again as the copy.
          std::memcpy(out, src, kW * sizeof(float));
        } else {
          for (int e = 0; e < count; ++e) out[e] = src[e * g_.stride];
        }
        t += count, j += count;
        if (j == g_.out_w) j = 0, ++i;
      }
      if (nc % kW) {  // the last panel's columns past nc
        float* last = panel_row + (nc / kW) * panel_size;
        std::fill(last + nc % kW, last + kW, 0.0f);
      }
    }
  }

 private:
  ConvGeometry g_;
  PaddedSize size_;
  const float* padded_;
};

// The transposed column matrix, for the weight gradient dW_g = dy_g · columnsᵀ:
//   op(B) = columnsᵀ (Ho·Wo × Cg·kh·kw),   op(B)(q, r) = im2col row r at output pixel q,
// packed from the padded image like ImageColumns. A panel now holds kW column-matrix rows side
// by side, each row a run of kc pixels: eight rows at a time, eight consecutive pixels of each
// (one vector from the padded image) are transposed in registers into eight panel rows.
class ImageColumnsTransposed final : public PanelSource {
 public:
  ImageColumnsTransposed(const ConvGeometry& g, const float* padded)
      : g_(g), size_(padded_size(g)), padded_(padded) {}

  void pack(int k0, int kc, int n0, int nc, float* panels) const override {
    static_assert(kW % 8 == 0, "panels are filled eight lanes at a time");
    for (int p = 0; p < nc; p += kW) {
      float* panel = panels + static_cast<int64_t>(p / kW) * kc * kW;
      for (int lane = 0; lane < kW; lane += 8) pack_lanes(k0, kc, n0 + p, nc - p, lane, panel);
    }
  }

 private:
  // Lanes [lane, lane + 8) of one panel: column-matrix rows first_row + lane + e (e < 8, those
  // below first_row + rows), pixels k0 .. k0 + kc.
  void pack_lanes(int k0, int kc, int first_row, int rows, int lane, float* panel) const {
    const float* taps[8];
    bool all_rows = true;
    for (int e = 0; e < 8; ++e) {
      const bool inside = lane + e < rows;
      taps[e] = inside ? tap_origin(g_, size_, padded_, first_row + lane + e) : nullptr;
      all_rows = all_rows && inside;
    }
    // Pixels in pieces that lie in one output row, where stride 1 makes them consecutive floats.
    int i = k0 / g_.out_w, j = k0 % g_.out_w;
    for (int k = 0; k < kc;) {
      const int count = std::min(g_.out_w - j, kc - k);
      const int64_t offset = (static_cast<int64_t>(i) * size_.w + j) * g_.stride;
      float* out = panel + static_cast<int64_t>(k) * kW + lane;
      int m = 0;
#if defined(__AVX2__)
      if (all_rows && g_.stride == 1)
        for (; m + 8 <= count; m += 8) transpose_8x8(taps, offset + m, out + m * kW, kW);
#endif
      for (; m < count; ++m)
        for (int e = 0; e < 8; ++e) out[m * kW + e] = taps[e] ? taps[e][offset + m * g_.stride] : 0.0f;
      k += count, j += count;
      if (j == g_.out_w) j = 0, ++i;
    }
  }

  ConvGeometry g_;
  PaddedSize size_;
  const float* padded_;
};

// y[n] (K, Ho·Wo) = per group W_g · columns_g (+ beta · y[n]), plus the bias.
void forward_one_image(const ConvGeometry& g, int n, const float* x, const float* weight, const float* bias,
                       float* y, float beta = 0.0f) {
  const int kg = g.out_channels_per_group(), ckk = g.column_rows();
  const int plane = static_cast<int>(g.out_plane());
  for (int gi = 0; gi < g.groups; ++gi) {
    const GroupSlice s = group_slice(g, n, gi);
    if (g.is_pointwise_identity())  // the (Cg, H·W) input is already the column matrix
      gemm(kg, plane, ckk, weight + s.w_offset, x + s.x_offset, y + s.y_offset, {.beta = beta});
    else
      gemm(kg, plane, ckk, weight + s.w_offset, ImageColumns(g, padded_image(g, x + s.x_offset)),
           y + s.y_offset, {.beta = beta});
  }
  if (bias) add_bias(1, g.out_channels, plane, bias, y + static_cast<int64_t>(n) * g.out_channels * plane);
}

// At stride 1 the data gradient is itself a convolution, of dy with the kernel turned by 180° and
// its in/out channels swapped:
//   dx[n, c, h, w] += Σ_{k, u, v} w[k, c, kh−1−u, kw−1−v] · dy[n, k, h − p'_t + u·d, w − p'_l + v·d]
// with pads p'_t = d·(kh − 1) − pad_top, p'_l = d·(kw − 1) − pad_left (which must be ≥ 0). Run
// through the packed forward, no column gradient (Cg·kh·kw × Ho·Wo) is written out and scattered
// back by col2im. That matters when Kg is small: W_gᵀ · dy then has an inner dimension of only Kg,
// so writing and re-reading its large output weighs as much as the multiply-adds. Measured (one
// thread, AVX2, batch 8): 5–10% faster at Kg = 64, 4% slower at Kg = 256, where W_gᵀ · dy is an
// efficient GEMM already; the cut at 128 lies between the two.
bool backward_data_is_a_forward_conv(const ConvGeometry& g) {
  return g.stride == 1 && g.out_channels_per_group() <= 128 && !g.is_pointwise_identity() &&
         g.pad_top <= g.dilation * (g.kernel_h - 1) && g.pad_left <= g.dilation * (g.kernel_w - 1);
}

ConvGeometry backward_data_as_forward(const ConvGeometry& g) {
  const int span_h = g.dilation * (g.kernel_h - 1), span_w = g.dilation * (g.kernel_w - 1);
  ConvGeometry t = g;
  t.in_channels = g.out_channels, t.in_h = g.out_h, t.in_w = g.out_w;
  t.out_channels = g.in_channels, t.out_h = g.in_h, t.out_w = g.in_w;
  t.pad_top = span_h - g.pad_top, t.pad_left = span_w - g.pad_left;
  // The rows and columns past dy's end that the turned kernel reads are zeros (pad_image fills
  // what padded_size asks for); these two only describe them.
  t.pad_bottom = g.in_h - 1 + span_h - t.pad_top - (g.out_h - 1);
  t.pad_right = g.in_w - 1 + span_w - t.pad_left - (g.out_w - 1);
  return t;
}

// w (K, Cg, kh, kw) → turned (C, Kg, kh, kw): turned[gi·Cg + c, k, u, v] = w[gi·Kg + k, c, kh−1−u, kw−1−v].
std::vector<float> turned_weight(const ConvGeometry& g, const float* weight) {
  const int kg = g.out_channels_per_group(), cg = g.in_channels_per_group();
  const int taps = g.kernel_h * g.kernel_w;
  std::vector<float> turned(g.weight_count());
  for (int gi = 0; gi < g.groups; ++gi)
    for (int k = 0; k < kg; ++k)
      for (int c = 0; c < cg; ++c) {
        const float* from = weight + ((static_cast<int64_t>(gi) * kg + k) * cg + c) * taps;
        float* to = turned.data() + ((static_cast<int64_t>(gi) * cg + c) * kg + k) * taps;
        for (int tap = 0; tap < taps; ++tap) to[tap] = from[taps - 1 - tap];
      }
  return turned;
}

// dx[n] += per group col2im(W_gᵀ · dy_g).
void backward_data_one_image(const ConvGeometry& g, int n, const float* dy, const float* weight, float* dx,
                             float* columns, int tile_rows) {
  const int kg = g.out_channels_per_group(), ckk = g.column_rows();
  const int plane = static_cast<int>(g.out_plane());
  for (int gi = 0; gi < g.groups; ++gi) {
    const GroupSlice s = group_slice(g, n, gi);
    if (g.is_pointwise_identity()) {  // dx_g (Cg, H·W) is the column gradient itself: accumulate
      gemm(ckk, plane, kg, weight + s.w_offset, dy + s.y_offset, dx + s.x_offset,
           {.trans_a = true, .beta = 1.0f});
      continue;
    }
    for (int row_begin = 0; row_begin < g.out_h; row_begin += tile_rows) {
      const int row_end = std::min(row_begin + tile_rows, g.out_h);
      // dcolumns (Cg·kh·kw, rows·Wo) = W_gᵀ · dy tile (Kg, rows·Wo; leading dimension Ho·Wo).
      gemm(ckk, (row_end - row_begin) * g.out_w, kg, weight + s.w_offset,
           dy + s.y_offset + static_cast<int64_t>(row_begin) * g.out_w, columns,
           {.trans_a = true, .ldb = plane});
      col2im(g, columns, dx + s.x_offset, row_begin, row_end);
    }
  }
}

// dweight += per group dy_g · columns_gᵀ for image n.
void backward_weight_one_image(const ConvGeometry& g, int n, const float* x, const float* dy, float* dweight) {
  const int kg = g.out_channels_per_group(), ckk = g.column_rows();
  const int plane = static_cast<int>(g.out_plane());
  for (int gi = 0; gi < g.groups; ++gi) {
    const GroupSlice s = group_slice(g, n, gi);
    // dW_g (Kg, Cg·kh·kw) += dy_g (Kg, Ho·Wo) · columnsᵀ (Ho·Wo, Cg·kh·kw).
    if (g.is_pointwise_identity())
      gemm(kg, ckk, plane, dy + s.y_offset, x + s.x_offset, dweight + s.w_offset, {.trans_b = true, .beta = 1.0f});
    else
      gemm(kg, ckk, plane, dy + s.y_offset, ImageColumnsTransposed(g, padded_image(g, x + s.x_offset)),
           dweight + s.w_offset, {.beta = 1.0f});
  }
}

}  // namespace

void conv2d_forward(const ConvGeometry& g, const float* x, const float* weight, const float* bias, float* y) {
#pragma omp parallel for schedule(static) if (parallel_over_batch(g))
  for (int n = 0; n < g.batch; ++n) forward_one_image(g, n, x, weight, bias, y);
}

void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* weight, float* dx,
                          int64_t max_column_floats) {
  if (backward_data_is_a_forward_conv(g)) {
    const ConvGeometry t = backward_data_as_forward(g);
    const std::vector<float> turned = turned_weight(g, weight);
#pragma omp parallel for schedule(static) if (parallel_over_batch(t))
    for (int n = 0; n < g.batch; ++n) forward_one_image(t, n, dy, turned.data(), nullptr, dx, 1.0f);
    return;
  }
  const int tile_rows = rows_per_tile(g, max_column_floats);
  const bool over_batch = parallel_over_batch(g);
#pragma omp parallel if (over_batch)
  {
    std::vector<float> columns(workspace_floats(g, tile_rows));
#pragma omp for schedule(static)
    for (int n = 0; n < g.batch; ++n)
      backward_data_one_image(g, n, dy, weight, dx, columns.data(), tile_rows);
  }
}

void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                            float* dbias) {
  const bool over_batch = parallel_over_batch(g);
  const int threads = over_batch ? omp_get_max_threads() : 1;
  const int64_t weight_count = g.weight_count();
  // One zeroed partial dW per thread when images run in parallel; otherwise straight into dweight.
  std::vector<float> partial_dweight(over_batch ? threads * weight_count : 0, 0.0f);
#pragma omp parallel num_threads(threads) if (over_batch)
  {
    float* my_dweight = over_batch ? partial_dweight.data() + omp_get_thread_num() * weight_count : dweight;
#pragma omp for schedule(static)
    for (int n = 0; n < g.batch; ++n) backward_weight_one_image(g, n, x, dy, my_dweight);
  }
  for (int t = 0; t < (over_batch ? threads : 0); ++t) {  // fixed order: thread 0, 1, ...
    const float* partial = partial_dweight.data() + t * weight_count;
    for (int64_t i = 0; i < weight_count; ++i) dweight[i] += partial[i];
  }
  if (dbias) bias_backward(g.batch, g.out_channels, g.out_plane(), dy, dbias);
}

void add_bias(int batch, int channels, int64_t plane, const float* bias, float* y) {
  for (int n = 0; n < batch; ++n)
    for (int k = 0; k < channels; ++k) {
      float* y_channel = y + (static_cast<int64_t>(n) * channels + k) * plane;
      for (int64_t p = 0; p < plane; ++p) y_channel[p] += bias[k];
    }
}

void bias_backward(int batch, int channels, int64_t plane, const float* dy, float* dbias) {
  const int64_t dy_count = static_cast<int64_t>(batch) * channels * plane;
#pragma omp parallel for schedule(static) if (worth_threads(dy_count))
  for (int k = 0; k < channels; ++k) {
    double total = 0.0;
    for (int n = 0; n < batch; ++n) {
      const float* dy_channel = dy + (static_cast<int64_t>(n) * channels + k) * plane;
      float partial = 0.0f;
#pragma omp simd reduction(+ : partial)
      for (int64_t p = 0; p < plane; ++p) partial += dy_channel[p];
      total += partial;
    }
    dbias[k] += static_cast<float>(total);
  }
}

}  // namespace pg::kernels
