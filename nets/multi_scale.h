// Multi-scale inputs (DeepLab v2, Chen et al., TPAMI 2018; "MSC" in its release): the same net, weights
// shared, runs on the image at several scales (1, 0.75, 0.5); each scale's score map is bilinearly
// upsampled to scale 1's and the maps are fused by taking, per pixel and class, the maximum. In
// training each scale's map and the fused one have their own cross-entropy (four losses, summed).
//
// Resizing follows the Caffe release's Interp layer (bilinear, corners aligned): the input at scale s
// is floor((n − 1)·s) + 1 pixels a side (321 → 241 and 161), score maps are upsampled to scale 1's
// size the same way, and each loss's labels are the label map shrunk to that map's size
// (nets/label_shrink.h, nearest on the same grid). The released MSC prototxt was not among the
// sources we could read; the label rule is the one its single-scale nets use, applied per scale.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/ops/cross_entropy.h"
#include "core/tensor.h"

namespace pg {

// The input side at `scale` on the Interp grid: floor((n − 1)·scale) + 1 (n = 64: 48 at 0.75, 32 at 0.5).
int64_t scaled_size(int64_t n, float scale);

// Checks scales for the net `net`: at least one, the first exactly 1 (the fused map lives at its
// size), each in (0, 1].
void check_scales(const char* net, const std::vector<float>& scales);

struct MultiScaleScores {
  std::vector<Tensor> per_scale;  // per_scale[i]: the score map of the input at scales[i], at its own size
  Tensor fused;  // (N, C, h₁, w₁): the pixel-wise maximum, the smaller maps upsampled to scale 1's
};

// images: (N, 3, H, W); score_map: the net, images → stride-8 class scores. With one scale, fused
// is per_scale[0].
MultiScaleScores multi_scale_score_maps(const Tensor& images, const std::vector<float>& scales,
                                        const std::function<Tensor(const Tensor&)>& score_map);

// Σ_i CE(per_scale[i], labels shrunk to its size) + CE(fused, labels shrunk to scale 1's size); with
// one scale just the one loss. labels: (N, H, W), the images' size.
Tensor multi_scale_loss(const MultiScaleScores& scores, const LabelMap& labels,
                        const CrossEntropyParams& loss);

}  // namespace pg
