// shrink_labels: nearest labels on Caffe's align-corners Interp grid.
#include "nets/label_shrink.h"

#include <vector>

#include "core/error.h"

namespace pg {

namespace {

// round(i·(in − 1)/(out − 1)) for every i < out, halves up, in integers.
std::vector<int64_t> source_indices(int64_t in, int64_t out) {
  std::vector<int64_t> source(out, 0);
  if (out == 1) return source;
  for (int64_t i = 0; i < out; ++i) source[i] = (2 * i * (in - 1) + out - 1) / (2 * (out - 1));
  return source;
}

}  // namespace

LabelMap shrink_labels(const LabelMap& labels, int64_t h, int64_t w) {
  check(labels.defined() && labels.dim() == 3, "shrink_labels: expected labels (N, H, W), got ",
        labels.defined() ? shape_str(labels.shape()) : "an undefined tensor");
  const int64_t n = labels.size(0), in_h = labels.size(1), in_w = labels.size(2);
  check(h >= 1 && w >= 1 && h <= in_h && w <= in_w, "shrink_labels: the output ", h, "×", w,
        " must be at least 1×1 and at most the labels' ", in_h, "×", in_w);
  const std::vector<int64_t> rows = source_indices(in_h, h), cols = source_indices(in_w, w);
  LabelMap out({n, h, w});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j)
        out.data()[(b * h + i) * w + j] = labels.data()[(b * in_h + rows[i]) * in_w + cols[j]];
  return out;
}

void check_labels_match_images(const char* net, const Tensor& images, const LabelMap& labels) {
  check(images.defined() && images.dim() == 4, net, ": expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  check(labels.defined() && labels.dim() == 3 && labels.size(0) == images.size(0) &&
            labels.size(1) == images.size(2) && labels.size(2) == images.size(3),
        net, ": expected labels (", images.size(0), ", ", images.size(2), ", ", images.size(3),
        ") for images ", shape_str(images.shape()), ", got ",
        labels.defined() ? shape_str(labels.shape()) : "undefined labels");
}

}  // namespace pg
