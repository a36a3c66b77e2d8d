// Per-pixel softmax cross-entropy: loss_p = −w[t_p] · log softmax(z_p)[t_p] for every pixel p
// whose target t_p is not ignore_index. Reduction::mean divides by Σ w[t_p] over valid pixels
// (by their count without weights; PyTorch's and Caffe's VALID), Reduction::sum does not divide
// (FCN's reference). A target outside [0, C) other than ignore_index is an error.
#pragma once
#include "core/tensor.h"

namespace pg {

enum class Reduction { mean, sum };

struct CrossEntropyParams {
  int ignore_index = 255;
  Reduction reduction = Reduction::mean;
  Tensor class_weights = {};  // (C) or undefined
};

// logits: (N, C, H, W) with target (N, H, W), or (N, C) with target (N) → scalar.
// With no valid pixel at all, the mean is 0 (and so is the gradient), not NaN.
Tensor cross_entropy(const Tensor& logits, const IntTensor& target, const CrossEntropyParams& p = {});

}  // namespace pg
