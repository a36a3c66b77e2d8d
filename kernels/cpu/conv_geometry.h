// The geometry of a 2-D convolution (sizes, stride, padding, dilation, groups) shared by the conv
// kernels, and the output-size arithmetic of the conv family, each formula in one place.
// conv_transpose2d reuses the same struct: its output is the "input" of the conv it is the adjoint of.
#pragma once
#include <cstdint>

namespace pg::kernels {

// One convolution: x (batch, in_channels, in_h, in_w) * weight (out_channels,
// in_channels/groups, kernel_h, kernel_w) → y (batch, out_channels, out_h, out_w).
// Output pixel (i, j) reads input rows i·stride − pad_top + u·dilation and columns
// j·stride − pad_left + v·dilation; reads outside the image are zeros. out_h and out_w are
// stored (not recomputed) so that the adjoint of a conv can ask for fewer output rows than fit
// (conv_transpose2d with output_pad ≥ stride).
struct ConvGeometry {
  int batch = 1;
  int in_channels = 1;
  int in_h = 1;
  int in_w = 1;
  int out_channels = 1;
  int kernel_h = 1;
  int kernel_w = 1;
  int stride = 1;
  int dilation = 1;
  int groups = 1;
  int pad_top = 0;
  int pad_left = 0;
  int pad_bottom = 0;
  int pad_right = 0;
  int out_h = 1;
  int out_w = 1;

  int in_channels_per_group() const { return in_channels / groups; }
  int out_channels_per_group() const { return out_channels / groups; }
  // Rows of the column matrix of one group: one per (channel, kernel row, kernel column).
  int column_rows() const { return in_channels_per_group() * kernel_h * kernel_w; }
  int64_t in_plane() const { return static_cast<int64_t>(in_h) * in_w; }
  int64_t out_plane() const { return static_cast<int64_t>(out_h) * out_w; }
  // Floats in x, y and weight.
  int64_t x_count() const { return static_cast<int64_t>(batch) * in_channels * in_plane(); }
  int64_t y_count() const { return static_cast<int64_t>(batch) * out_channels * out_plane(); }
  int64_t weight_count() const { return static_cast<int64_t>(out_channels) * column_rows(); }
  // Multiply-accumulates of the forward: one column of weights per output value.
  int64_t macs() const { return y_count() * column_rows(); }
  // Each output channel sees one input channel: the direct depthwise kernels apply.
  bool is_depthwise() const { return groups == in_channels && groups == out_channels; }
  // A 1×1 conv that reads every input pixel once, in order: the input is its own column matrix.
  bool is_pointwise_identity() const {
    return kernel_h == 1 && kernel_w == 1 && stride == 1 && pad_top == 0 && pad_left == 0 && out_h == in_h &&
           out_w == in_w;
  }
};

// Output length of a conv along one axis with pad_begin and pad_end zeros added:
//   (in + pad_begin + pad_end − dilation·(kernel − 1) − 1) / stride + 1   (floor division)
// May be ≤ 0 when the dilated kernel does not fit; callers check.
int conv_out_size(int in, int kernel, int stride, int pad_begin, int pad_end, int dilation);
// The symmetric form: pad zeros on both sides.
int conv_out_size(int in, int kernel, int stride, int pad, int dilation);
// Output length of a transposed conv (the input length of the conv it is the adjoint of):
//   (in − 1)·stride − 2·pad + dilation·(kernel − 1) + output_pad + 1
int conv_transpose_out_size(int in, int kernel, int stride, int pad, int dilation, int output_pad);

// Fills out_h and out_w from the other fields with conv_out_size.
ConvGeometry with_output_size(ConvGeometry g);

// The output positions j in [0, out_size) whose input position j·stride + offset falls inside
// [0, in_size): a contiguous run [begin, end) (empty when begin ≥ end). Kernels use it to split
// a row into zero padding and a branch-free inner loop.
struct IndexRange {
  int begin = 0;
  int end = 0;
};
IndexRange valid_output_range(int offset, int stride, int in_size, int out_size);

}  // namespace pg::kernels
