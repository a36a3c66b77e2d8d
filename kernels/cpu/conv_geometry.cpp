// Output-size arithmetic of the conv family and the valid-range helper (see conv_geometry.h).
#include "kernels/cpu/conv_geometry.h"

#include <algorithm>

namespace pg::kernels {

// Floor division that rounds towards −∞ also for negative numerators.
static int floor_div(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int conv_out_size(int in, int kernel, int stride, int pad_begin, int pad_end, int dilation) {
  const int span = dilation * (kernel - 1) + 1;  // the extent of the dilated kernel
  return floor_div(in + pad_begin + pad_end - span, stride) + 1;
}

int conv_out_size(int in, int kernel, int stride, int pad, int dilation) {
  return conv_out_size(in, kernel, stride, pad, pad, dilation);
}

int conv_transpose_out_size(int in, int kernel, int stride, int pad, int dilation, int output_pad) {
  return (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_pad + 1;
}

ConvGeometry with_output_size(ConvGeometry g) {
  g.out_h = conv_out_size(g.in_h, g.kernel_h, g.stride, g.pad_top, g.pad_bottom, g.dilation);
  g.out_w = conv_out_size(g.in_w, g.kernel_w, g.stride, g.pad_left, g.pad_right, g.dilation);
  return g;
}

IndexRange valid_output_range(int offset, int stride, int in_size, int out_size) {
  // j·stride + offset ≥ 0  ⇔  j ≥ ceil(−offset / stride);  j·stride + offset ≤ in_size − 1.
  int begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int end = in_size - 1 - offset < 0 ? 0 : (in_size - 1 - offset) / stride + 1;
  begin = std::min(begin, out_size);
  end = std::clamp(end, begin, out_size);
  return {begin, end};
}

}  // namespace pg::kernels
