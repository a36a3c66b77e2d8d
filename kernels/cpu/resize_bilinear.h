// Bilinear resize kernels on NCHW planes: the forward (each output pixel gathers its four source
// pixels) and the backward (each output gradient is scattered back to them with the same weights),
// both align_corners conventions. Fast versions beside plain per-pixel reference loops.
#pragma once
#include <cstdint>

namespace pg::kernels {

// Along one axis, output index d reads the source coordinate
//   align_corners = true:   src = d · ratio                          (ratio = (in − 1)/(out − 1))
//   align_corners = false:  src = max(0, (d + 0.5) · ratio − 0.5)    (ratio = in/out, or 1/scale)
// then i0 = floor(src), i1 = min(i0 + 1, in − 1), lambda = src − i0, and the value is
//   (1 − lambda) · x[i0] + lambda · x[i1].
// The ratio is passed explicitly because PyTorch's interpolate(scale_factor = s,
// align_corners = False) uses 1/s, which differs from in/out when in·s is not an integer.
struct ResizeBilinearParams {
  int64_t planes = 1;  // N·C
  int in_h = 1, in_w = 1;
  int out_h = 1, out_w = 1;
  float ratio_h = 1.0f, ratio_w = 1.0f;
  bool align_corners = false;
};

// The ratio implied by the sizes alone: (in − 1)/(out − 1) with aligned corners (0 when out = 1),
// otherwise in/out.
float bilinear_source_ratio(int in, int out, bool align_corners);

// x: (planes, in_h, in_w) → y: (planes, out_h, out_w), y is overwritten.
// Fast version: source taps precomputed once per call for every output row and column, each
// source row interpolated horizontally once (SIMD gathers over output columns), then output rows
// blended vertically with SIMD; OpenMP over planes. Computes the same as the reference.
void resize_bilinear_forward(const float* x, float* y, const ResizeBilinearParams& p);
void resize_bilinear_forward_reference(const float* x, float* y, const ResizeBilinearParams& p);

// dy: (planes, out_h, out_w) → dx: (planes, in_h, in_w), ADDED into dx (the adjoint of the forward).
// Fast version: the transpose of the fast forward — output rows added into their two source rows
// (SIMD, in a per-thread buffer), then each source column gathers its band of output columns
// (SIMD gathers over source columns). Each plane's dx is owned by one thread (OpenMP over planes),
// so no atomics. Computes the same as the reference up to float rounding.
void resize_bilinear_backward(const float* dy, float* dx, const ResizeBilinearParams& p);
void resize_bilinear_backward_reference(const float* dy, float* dx, const ResizeBilinearParams& p);

}  // namespace pg::kernels
