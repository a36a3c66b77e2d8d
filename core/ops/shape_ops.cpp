// Ops that move values without arithmetic, forward and backward. Each is a block copy between
// two buffers, and its backward is the same copy in the other direction, accumulated:
//   concat: y = [x_0 | x_1 | ...] along dim        dx_k = the k-th part of dy
//   slice:  y = x[start:end] along dim              dx[start:end] += dy (0 elsewhere)
//   crop2d: y = x[:, :, top:top+h, left:left+w]     dx[window] += dy
//   pad2d:  y = zeros with x in the middle          dx += dy[middle]
#include "core/ops/shape_ops.h"

#include <cstring>
#include <utility>

#include "core/autograd.h"
#include "kernels/cpu/parallel.h"

namespace pg {

namespace {

// `planes` × `rows` rows of `length` floats. Row (q, r) starts at q·src_plane + r·src_row in the
// source and at q·dst_plane + r·dst_row in the destination.
struct BlockLayout {
  int64_t planes = 1, rows = 1, length = 0;
  int64_t src_plane = 0, src_row = 0;
  int64_t dst_plane = 0, dst_row = 0;
};

// The same layout read the other way round: the backward of a copy.
BlockLayout reversed(BlockLayout b) {
  std::swap(b.src_plane, b.dst_plane);
  std::swap(b.src_row, b.dst_row);
  return b;
}

// dst rows = src rows (accumulate = false) or dst rows += src rows (accumulate = true).
void copy_block(const float* src, float* dst, const BlockLayout& b, bool accumulate) {
  const bool parallel = kernels::worth_threads(b.planes * b.rows * b.length);
#pragma omp parallel for collapse(2) if (parallel)
  for (int64_t q = 0; q < b.planes; ++q)
    for (int64_t r = 0; r < b.rows; ++r) {
      const float* s = src + q * b.src_plane + r * b.src_row;
      float* d = dst + q * b.dst_plane + r * b.dst_row;
      if (accumulate) {
#pragma omp simd
        for (int64_t i = 0; i < b.length; ++i) d[i] += s[i];
      } else {
        std::memcpy(d, s, b.length * sizeof(float));
      }
    }
}

// A dimension index in [−rank, rank) made non-negative.
int normalized_dim(const char* op, int dim, int64_t rank) {
  check(dim >= -rank && dim < rank, op, ": dim ", dim, " is out of range for a ", rank, "-D tensor");
  return dim < 0 ? dim + static_cast<int>(rank) : dim;
}

// Product of shape[from, to).
int64_t extent(const Shape& shape, int64_t from, int64_t to) {
  int64_t n = 1;
  for (int64_t d = from; d < to; ++d) n *= shape[d];
  return n;
}

}  // namespace

Tensor concat(const std::vector<Tensor>& inputs, int dim) {
  check(!inputs.empty(), "concat: needs at least one tensor, got none");
  check(inputs[0].defined(), "concat: input 0 is undefined");
  const Shape& first = inputs[0].shape();
  const int64_t rank = static_cast<int64_t>(first.size());
  const int d = normalized_dim("concat", dim, rank);
  Shape out_shape = first;
  out_shape[d] = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    check(inputs[k].defined(), "concat: input ", k, " is undefined");
    const Shape& s = inputs[k].shape();
    bool matches = s.size() == first.size();
    for (int64_t j = 0; matches && j < rank; ++j) matches = j == d || s[j] == first[j];
    check(matches, "concat: along dim ", d, " every input must match input 0 ", shape_str(first),
          " in all other dimensions, input ", k, " is ", shape_str(s));
    out_shape[d] += s[d];
  }
  // Viewed as (outer, size along dim, inner): input k fills columns [offset_k, offset_k + size_k)
  // of every outer row of the output.
  const int64_t outer = extent(first, 0, d), inner = extent(first, d + 1, rank);
  Tensor y = Tensor::empty(out_shape);
  std::vector<BlockLayout> layouts;
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (const Tensor& x : inputs) {
    const int64_t part = x.size(d) * inner;
    layouts.push_back(
        {.planes = outer, .length = part, .src_plane = part, .dst_plane = out_shape[d] * inner});
    offsets.push_back(offset * inner);
    copy_block(x.data(), y.data() + offsets.back(), layouts.back(), false);
    offset += x.size(d);
  }
  record(y, "concat", inputs, [inputs, layouts, offsets](const Tensor& dy) {
    for (size_t k = 0; k < inputs.size(); ++k)
      if (float* dx = grad_accumulator(inputs[k]))
        copy_block(dy.data() + offsets[k], dx, reversed(layouts[k]), true);
  });
  return y;
}

Tensor slice(const Tensor& x, int dim, int64_t start, int64_t end) {
  check(x.defined(), "slice: the input is undefined");
  const int64_t rank = x.dim();
  const int d = normalized_dim("slice", dim, rank);
  check(0 <= start && start < end && end <= x.size(d), "slice: the range [", start, ", ", end,
        ") must be non-empty and inside [0, ", x.size(d), ") along dim ", d, " of the input ",
        shape_str(x.shape()));
  Shape out_shape = x.shape();
  out_shape[d] = end - start;
  // Viewed as (outer, size along dim, inner): every outer row gives columns [start, end).
  const int64_t outer = extent(x.shape(), 0, d), inner = extent(x.shape(), d + 1, rank);
  const BlockLayout layout{.planes = outer,
                           .length = (end - start) * inner,
                           .src_plane = x.size(d) * inner,
                           .dst_plane = (end - start) * inner};
  const int64_t offset = start * inner;
  Tensor y = Tensor::empty(out_shape);
  copy_block(x.data() + offset, y.data(), layout, false);
  record(y, "slice", {x}, [x, layout, offset](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) copy_block(dy.data(), dx + offset, reversed(layout), true);
  });
  return y;
}

Tensor crop2d(const Tensor& x, int top, int left, int height, int width) {
  check_dim("crop2d", "input", x, 4);
  const int64_t H = x.size(2), W = x.size(3);
  check(top >= 0 && left >= 0 && height > 0 && width > 0 && top + height <= H && left + width <= W,
        "crop2d: the window of ", height, "×", width, " at (top ", top, ", left ", left,
        ") must be non-empty and inside the ", H, "×", W, " input ", shape_str(x.shape()));
  // x: (N, C, H, W) → y: (N, C, height, width); plane q's row r comes from row top + r at column left.
  const BlockLayout layout{.planes = x.size(0) * x.size(1),
                           .rows = height,
                           .length = width,
                           .src_plane = H * W,
                           .src_row = W,
                           .dst_plane = int64_t{height} * width,
                           .dst_row = width};
  const int64_t offset = top * W + left;
  Tensor y = Tensor::empty({x.size(0), x.size(1), height, width});
  copy_block(x.data() + offset, y.data(), layout, false);
  record(y, "crop2d", {x}, [x, layout, offset](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) copy_block(dy.data(), dx + offset, reversed(layout), true);
  });
  return y;
}

Tensor pad2d(const Tensor& x, int top, int bottom, int left, int right) {
  check_dim("pad2d", "input", x, 4);
  check(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "pad2d: padding must be non-negative, got top ",
        top, ", bottom ", bottom, ", left ", left, ", right ", right);
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t out_h = H + top + bottom, out_w = W + left + right;
  // x: (N, C, H, W) → y: (N, C, out_h, out_w); x's row r lands in row top + r from column left.
  const BlockLayout layout{.planes = x.size(0) * x.size(1),
                           .rows = H,
                           .length = W,
                           .src_plane = H * W,
                           .src_row = W,
                           .dst_plane = out_h * out_w,
                           .dst_row = out_w};
  const int64_t offset = top * out_w + left;
  Tensor y = Tensor::zeros({x.size(0), x.size(1), out_h, out_w});
  copy_block(x.data(), y.data() + offset, layout, false);
  record(y, "pad2d", {x}, [x, layout, offset](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) copy_block(dy.data() + offset, dx, reversed(layout), true);
  });
  return y;
}

}  // namespace pg
