// The padded image and col2im (see im2col.h). col2im takes each column-matrix row (c, u, v) one
// output row at a time: the run of output columns whose input column lies inside the image is
// found once (valid_output_range), so the inner loop over output columns is a branch-free
// contiguous (stride 1) or strided accumulate, and the entries in the padding are skipped.
#include "kernels/cpu/im2col.h"

#include <algorithm>

namespace pg::kernels {

PaddedSize padded_size(const ConvGeometry& g) {
  return {(g.out_h - 1) * g.stride + (g.kernel_h - 1) * g.dilation + 1,
          (g.out_w - 1) * g.stride + (g.kernel_w - 1) * g.dilation + 1};
}

void pad_image(const ConvGeometry& g, const float* image, float* padded) {
  const PaddedSize size = padded_size(g);
  // Padded columns [copy_begin, copy_end) hold image columns; the rest are zeros.
  const int copy_begin = std::min(g.pad_left, size.w);
  const int copy_end = std::clamp(g.pad_left + g.in_w, copy_begin, size.w);
  for (int c = 0; c < g.in_channels_per_group(); ++c)
    for (int p = 0; p < size.h; ++p) {
      float* out = padded + (c * static_cast<int64_t>(size.h) + p) * size.w;
      const int h = p - g.pad_top;
      if (h < 0 || h >= g.in_h) {
        std::fill(out, out + size.w, 0.0f);
        continue;
      }
      const float* in_row = image + (c * static_cast<int64_t>(g.in_h) + h) * g.in_w;
      std::fill(out, out + copy_begin, 0.0f);
      std::copy(in_row + copy_begin - g.pad_left, in_row + copy_end - g.pad_left, out + copy_begin);
      std::fill(out + copy_end, out + size.w, 0.0f);
    }
}

void col2im(const ConvGeometry& g, const float* columns, float* image, int row_begin, int row_end) {
  const int rows = row_end - row_begin;
  const int64_t tile_cols = static_cast<int64_t>(rows) * g.out_w;
  const float* src = columns;
  for (int c = 0; c < g.in_channels_per_group(); ++c) {
    float* channel = image + c * g.in_plane();
    for (int u = 0; u < g.kernel_h; ++u) {
      for (int v = 0; v < g.kernel_w; ++v, src += tile_cols) {
        const int col_offset = v * g.dilation - g.pad_left;
        const IndexRange valid = valid_output_range(col_offset, g.stride, g.in_w, g.out_w);
        for (int i = row_begin; i < row_end; ++i) {
          const int h = i * g.stride - g.pad_top + u * g.dilation;
          if (h < 0 || h >= g.in_h) continue;
          const float* in = src + static_cast<int64_t>(i - row_begin) * g.out_w;
          float* image_row = channel + static_cast<int64_t>(h) * g.in_w;
          if (g.stride == 1) {
            for (int j = valid.begin; j < valid.end; ++j) image_row[j + col_offset] += in[j];
          } else {
            for (int j = valid.begin; j < valid.end; ++j) image_row[j * g.stride + col_offset] += in[j];
          }
        }
      }
    }
  }
}

// The definition, one element at a time.
void im2col_reference(const ConvGeometry& g, const float* image, float* columns, int row_begin, int row_end) {
  const int64_t tile_cols = static_cast<int64_t>(row_end - row_begin) * g.out_w;
  for (int c = 0; c < g.in_channels_per_group(); ++c)
    for (int u = 0; u < g.kernel_h; ++u)
      for (int v = 0; v < g.kernel_w; ++v) {
        const int64_t row = (static_cast<int64_t>(c) * g.kernel_h + u) * g.kernel_w + v;
        for (int i = row_begin; i < row_end; ++i)
          for (int j = 0; j < g.out_w; ++j) {
            const int h = i * g.stride - g.pad_top + u * g.dilation;
            const int w = j * g.stride - g.pad_left + v * g.dilation;
            const bool inside = h >= 0 && h < g.in_h && w >= 0 && w < g.in_w;
            columns[row * tile_cols + (i - row_begin) * g.out_w + j] =
                inside ? image[(static_cast<int64_t>(c) * g.in_h + h) * g.in_w + w] : 0.0f;
          }
      }
}

void col2im_reference(const ConvGeometry& g, const float* columns, float* image, int row_begin, int row_end) {
  const int64_t tile_cols = static_cast<int64_t>(row_end - row_begin) * g.out_w;
  for (int c = 0; c < g.in_channels_per_group(); ++c)
    for (int u = 0; u < g.kernel_h; ++u)
      for (int v = 0; v < g.kernel_w; ++v) {
        const int64_t row = (static_cast<int64_t>(c) * g.kernel_h + u) * g.kernel_w + v;
        for (int i = row_begin; i < row_end; ++i)
          for (int j = 0; j < g.out_w; ++j) {
            const int h = i * g.stride - g.pad_top + u * g.dilation;
            const int w = j * g.stride - g.pad_left + v * g.dilation;
            if (h >= 0 && h < g.in_h && w >= 0 && w < g.in_w)
              image[(static_cast<int64_t>(c) * g.in_h + h) * g.in_w + w] +=
                  columns[row * tile_cols + (i - row_begin) * g.out_w + j];
          }
      }
}

}  // namespace pg::kernels
