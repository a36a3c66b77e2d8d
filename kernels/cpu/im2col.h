// im2col and its adjoint col2im for one image and one group: the rearrangement that turns a
// convolution into one matrix multiply (weight (K/groups × Cg·kh·kw) · columns (Cg·kh·kw × Ho·Wo)).
// Stride, asymmetric zero padding and dilation; dilation only moves the index that is read.
#pragma once
#include "kernels/cpu/conv_geometry.h"

namespace pg::kernels {

// image: (Cg, in_h, in_w), the Cg = in_channels/groups channels of one group of one image.
// columns: (Cg·kh·kw, (row_end − row_begin)·out_w), written. Output rows [row_begin, row_end) only,
// so a caller can tile the spatial dimension. Row (c, u, v), column (i − row_begin)·out_w + j holds
//   image[c, i·stride − pad_top + u·dilation, j·stride − pad_left + v·dilation]   (0 outside).
void im2col(const ConvGeometry& g, const float* image, float* columns, int row_begin, int row_end);

// The adjoint of im2col: every column entry is ADDED to the image pixel it was read from
// (entries that fell into the padding are dropped). image: (Cg, in_h, in_w), accumulated.
void col2im(const ConvGeometry& g, const float* columns, float* image, int row_begin, int row_end);

// The same two maps written element by element from the definition, with a bounds test on every
// read; im2col and col2im compute the same thing.
void im2col_reference(const ConvGeometry& g, const float* image, float* columns, int row_begin, int row_end);
void col2im_reference(const ConvGeometry& g, const float* columns, float* image, int row_begin, int row_end);

}  // namespace pg::kernels
