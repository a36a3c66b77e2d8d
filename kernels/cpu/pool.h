// Pooling kernels on NCHW planes: max pool (with argmax indices) and its index scatter, average
// pool (PyTorch's divisor rules), adaptive average pool, and max-unpool. The window geometry
// helpers (output size, adaptive bins) live here too, so ops and tests share one definition.
#pragma once
#include <cstdint>

namespace pg::kernels {

// A square window of `kernel` taps, `dilation` apart, moved by `stride`, the input padded by `pad`
// on every side. Output (oh, ow) covers input rows oh·stride − pad + kh·dilation, kh = 0..kernel−1,
// and likewise for columns; padded positions never win a max and count in an average only with
// count_include_pad. Dilation is for max pooling only (as PyTorch's); average pools keep it 1.
struct Pool2dGeometry {
  int64_t planes = 1;  // N·C
  int in_h = 1, in_w = 1;
  int out_h = 1, out_w = 1;
  int kernel = 2, stride = 2, pad = 0;
  int dilation = 1;               // max pooling only
  bool count_include_pad = true;  // average pooling only
  int window_extent() const { return dilation * (kernel - 1) + 1; }  // input span of one window
};

// Sizes of a plane-to-plane map without a window: adaptive pooling and max-unpool.
struct PlaneSizes {
  int64_t planes = 1;  // N·C
  int in_h = 1, in_w = 1;
  int out_h = 1, out_w = 1;
};

// The elements a kernel on these sizes reads and writes, planes·(in_h·in_w + out_h·out_w): its
// work figure for worth_threads (parallel.h). Sizes: Pool2dGeometry or PlaneSizes.
template <typename Sizes>
int64_t elements_in_and_out(const Sizes& s) {
  return s.planes * (static_cast<int64_t>(s.in_h) * s.in_w + static_cast<int64_t>(s.out_h) * s.out_w);
}

// PyTorch's pooling output size: floor (or ceil, in ceil mode) of (in + 2·pad − kernel)/stride + 1,
// `kernel` being the window's extent (dilation·(taps − 1) + 1 for a dilated window);
// in ceil mode a last window that would start past the input and its left padding (that is, in
// the right padding) is dropped. Can be ≤ 0 when the window does not fit: the op reports that.
inline int pool_out_size(int in, int kernel, int stride, int pad, bool ceil_mode) {
  int span = in + 2 * pad - kernel + (ceil_mode ? stride - 1 : 0);
  int out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;  // floor division
  if (ceil_mode && out > 0 && (out - 1) * stride >= in + pad) --out;
  return out;
}

// Adaptive pooling: bin i of `bins` over length L spans [floor(i·L/bins), ceil((i+1)·L/bins)).
inline int adaptive_bin_start(int i, int length, int bins) {
  return static_cast<int>(static_cast<int64_t>(i) * length / bins);
}
inline int adaptive_bin_end(int i, int length, int bins) {
  return static_cast<int>((static_cast<int64_t>(i + 1) * length + bins - 1) / bins);
}

// Max pool. x: (planes, in_h, in_w) → y, indices: (planes, out_h, out_w); indices hold the flat
// position h·in_w + w of each maximum within its input plane; ties go to the first in scan order
// (row by row); NaN never wins. Every window must hold at least one real pixel (the op checks).
// Fast version: SIMD over output columns whose windows lie inside the row (strided loads for
// stride 1 and 2, gathers otherwise; a dilation only moves the taps), scalar at the borders;
// OpenMP over (plane, output row).
// Computes exactly the same as the reference.
void max_pool2d_forward(const float* x, float* y, int32_t* indices, const Pool2dGeometry& g);
void max_pool2d_forward_reference(const float* x, float* y, int32_t* indices, const Pool2dGeometry& g);
// dy, indices: (planes, out_h, out_w) → dx: (planes, in_h, in_w), ADDED: dx[idx] += dy.
// One thread owns each plane (OpenMP over planes). The plain loop is its own reference.
void max_pool2d_backward(const float* dy, const int32_t* indices, float* dx, const Pool2dGeometry& g);

// Average pool: y = Σ window / divisor, where the window is first clipped to the padded input
// (in + 2·pad: ceil mode may run past it) and the divisor is its size with count_include_pad,
// else the number of real input pixels in it. x: (planes, in_h, in_w) → y: (planes, out_h, out_w).
// These memory-bound kernels are the plain loops plus OpenMP over planes: they are their own
// reference. The backward ADDS dy / divisor to every real pixel of the window.
void avg_pool2d_forward(const float* x, float* y, const Pool2dGeometry& g);
void avg_pool2d_backward(const float* dy, float* dx, const Pool2dGeometry& g);

// Adaptive average pool over the bins above. x: (planes, in_h, in_w) → y: (planes, out_h, out_w);
// the backward ADDS dy / bin area to every pixel of the bin. Plain loops plus OpenMP over planes.
void adaptive_avg_pool2d_forward(const float* x, float* y, const PlaneSizes& s);
void adaptive_avg_pool2d_backward(const float* dy, float* dx, const PlaneSizes& s);

// Max-unpool: y (planes, out_h, out_w) = 0 except y[idx] = x for each x (planes, in_h, in_w) and
// its index; every index must lie in [0, out_h·out_w) (the op checks). The backward gathers:
// dx += dy[idx]. Plain loops plus OpenMP over planes.
void max_unpool2d_forward(const float* x, const int32_t* indices, float* y, const PlaneSizes& s);
void max_unpool2d_backward(const float* dy, const int32_t* indices, float* dx, const PlaneSizes& s);

}  // namespace pg::kernels
