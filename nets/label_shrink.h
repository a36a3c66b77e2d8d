// shrink_labels: the training target of a net whose scores come out at a fraction of the input
// (DeepLab v1/v2 at output stride 8). DeepLab's Caffe release shrinks the label map with its Interp
// layer ("label_shrink", shrink_factor 8): bilinear interpolation on the align-corners grid
// source = i·(H − 1)/(h − 1), and SoftmaxWithLoss then truncates the label to an integer. On the
// release's 8k+1 crops (321 → 41) every source falls exactly on a label pixel (8i), so the
// interpolation picks labels unchanged; we take the nearest label on that same grid, which is the
// release's target there and stays a valid label (never a blend of two classes, or of a class and
// 255) on any other size.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace pg {

// labels: (N, H, W) → (N, h, w), out[n][i][j] = labels[n][round(i·(H−1)/(h−1))][round(j·(W−1)/(w−1))]
// (halves rounded up; a side of 1 samples row/column 0). 255 (ignore) travels like any label.
LabelMap shrink_labels(const LabelMap& labels, int64_t h, int64_t w);

// A training batch's labels must be (N, H, W) for its images (N, 3, H, W); else a pg::Error naming `net`.
void check_labels_match_images(const char* net, const Tensor& images, const LabelMap& labels);

}  // namespace pg
