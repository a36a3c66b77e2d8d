// Multi-scale inputs: the scaled copies, the max fusion and the four losses.
#include "nets/multi_scale.h"

#include <cmath>

#include "core/error.h"
#include "core/ops/arithmetic.h"
#include "core/ops/resize_bilinear.h"
#include "nets/label_shrink.h"

namespace pg {

int64_t scaled_size(int64_t n, float scale) {
  return static_cast<int64_t>(std::floor(static_cast<double>(n - 1) * scale)) + 1;
}

void check_scales(const char* net, const std::vector<float>& scales) {
  check(!scales.empty() && scales[0] == 1.0f, net, ": the input scales must start with 1 (the fused map has ",
        "scale 1's size), got ", scales.empty() ? std::string("none") : str("first ", scales[0]));
  for (float s : scales) check(s > 0.0f && s <= 1.0f, net, ": every input scale must lie in (0, 1], got ", s);
}

MultiScaleScores multi_scale_score_maps(const Tensor& images, const std::vector<float>& scales,
                                        const std::function<Tensor(const Tensor&)>& score_map) {
  check_scales("multi-scale inputs", scales);
  const int64_t h = images.size(2), w = images.size(3);
  MultiScaleScores out;
  for (float s : scales) {
    // The image at scale s: (N, 3, floor((H−1)s)+1, floor((W−1)s)+1), the same weights on each.
    Tensor scaled = s == 1.0f ? images
                              : resize_bilinear(images, static_cast<int>(scaled_size(h, s)),
                                                static_cast<int>(scaled_size(w, s)), /*align_corners=*/true);
    out.per_scale.push_back(score_map(scaled));
  }
  // Fusion: every map at scale 1's score size (N, C, h₁, w₁), then the maximum over scales.
  const Tensor& first = out.per_scale[0];
  std::vector<Tensor> aligned = {first};
  for (size_t i = 1; i < out.per_scale.size(); ++i)
    aligned.push_back(resize_bilinear(out.per_scale[i], static_cast<int>(first.size(2)),
                                      static_cast<int>(first.size(3)), /*align_corners=*/true));
  out.fused = aligned.size() == 1 ? first : maximum(aligned);
  return out;
}

Tensor multi_scale_loss(const MultiScaleScores& scores, const LabelMap& labels,
                        const CrossEntropyParams& loss) {
  auto loss_of = [&](const Tensor& map) {
    return cross_entropy(map, shrink_labels(labels, map.size(2), map.size(3)), loss);
  };
  if (scores.per_scale.size() == 1) return loss_of(scores.fused);
  std::vector<Tensor> losses;
  for (const Tensor& map : scores.per_scale) losses.push_back(loss_of(map));
  losses.push_back(loss_of(scores.fused));
  return sum_of(losses);  // the release's four SoftmaxWithLoss layers, each of weight 1
}

}  // namespace pg
