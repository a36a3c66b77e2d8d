// im2col and its adjoint col2im for one image and one group: the rearrangement that turns a
// convolution into one matrix multiply (weight (K/groups × Cg·kh·kw) · columns (Cg·kh·kw × Ho·Wo)).
// Stride, asymmetric zero padding and dilation; dilation only moves the index that is read.
#pragma once
#include "kernels/cpu/conv_geometry.h"

namespace pg::kernels {

// image: (Cg, in_h, in_w), the Cg = in_channels/groups channels of one group of one image.
// columns: (Cg·kh·kw, (row_end − row_begin)·out_w), output rows [row_begin, row_end) only, so a
// caller can tile the spatial dimension. Row (c, u, v), column (i − row_begin)·out_w + j holds
//   image[c, i·stride − pad_top + u·dilation, j·stride − pad_left + v·dilation]   (0 outside).
// The convolutions never store this matrix (they pack it from the padded image below straight
// into the GEMM's panels, see conv.cpp); the definition is im2col_reference at the end.

// The image with its zero padding written out, as far as the conv reads it:
//   padded (Cg, padded_h, padded_w),  padded[c, p, q] = image[c, p − pad_top, q − pad_left] (0 outside),
// padded_h = (out_h − 1)·stride + (kernel_h − 1)·dilation + 1 and likewise padded_w. Against it
// every column-matrix entry is a read without a bounds test:
//   columns[(c, u, v), (i, j)] = padded[c, i·stride + u·dilation, j·stride + v·dilation].
struct PaddedSize {
  int h = 0, w = 0;
  int64_t plane() const { return static_cast<int64_t>(h) * w; }
};
PaddedSize padded_size(const ConvGeometry& g);
void pad_image(const ConvGeometry& g, const float* image, float* padded);

// The adjoint of im2col: every column entry is ADDED to the image pixel it was read from
// (entries that fell into the padding are dropped). image: (Cg, in_h, in_w), accumulated.
void col2im(const ConvGeometry& g, const float* columns, float* image, int row_begin, int row_end);

// The definitions, element by element, with a bounds test on every read: im2col_reference writes
// the columns, col2im_reference accumulates like col2im, and col2im computes the same thing.
void im2col_reference(const ConvGeometry& g, const float* image, float* columns, int row_begin, int row_end);
void col2im_reference(const ConvGeometry& g, const float* columns, float* image, int row_begin, int row_end);

}  // namespace pg::kernels
