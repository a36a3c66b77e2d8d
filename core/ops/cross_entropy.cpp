// Per-pixel softmax cross-entropy, forward and backward. For every pixel p with a target t_p
// other than ignore_index, with class weight w (all 1 without class_weights):
//   l_p = −w[t_p] · log softmax(z_p)[t_p] = w[t_p] · (log Σ_c e^(z_pc) − z_p,t_p)
//   sum:  L = Σ_p l_p                  mean: L = Σ_p l_p / Σ_p w[t_p]   (0 when no pixel is valid)
//   dz_pc = dL · w[t_p] · (softmax(z_p)_c − [c = t_p]) / (Σ_p w[t_p] for the mean); 0 at ignored pixels
// Ignored pixels add to neither the loss nor the mean's divisor.
#include "core/ops/cross_entropy.h"

#include "core/autograd.h"
#include "kernels/cpu/softmax.h"

namespace pg {

namespace {

// Every target is in [0, C) or equal to ignore_index; the message names the first one that is not.
void check_targets(const IntTensor& target, int64_t classes, int ignore_index) {
  const int32_t* t = target.data();
  const int64_t count = target.numel();
  for (int64_t i = 0; i < count; ++i) {
    if (t[i] == ignore_index || (t[i] >= 0 && t[i] < classes)) continue;
    std::string where = target.dim() == 3
                            ? str("(n ", i / (target.size(1) * target.size(2)), ", y ",
                                  i / target.size(2) % target.size(1), ", x ", i % target.size(2), ")")
                            : str("(n ", i, ")");
    throw Error(str("cross_entropy: target value ", t[i], " at ", where, " is not a class in [0, ", classes,
                    ") nor the ignore index ", ignore_index));
  }
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const IntTensor& target, const CrossEntropyParams& p) {
  check(logits.defined(), "cross_entropy: the logits are undefined");
  check(target.defined(), "cross_entropy: the target is undefined");
  check(logits.dim() == 4 || logits.dim() == 2,
        "cross_entropy: logits must be 4-D (N, C, H, W) or 2-D (N, C), got shape ",
        shape_str(logits.shape()));
  // logits: (N, C, H, W) with target (N, H, W), or (N, C) with target (N).
  Shape target_shape = {logits.size(0)};
  if (logits.dim() == 4) target_shape = {logits.size(0), logits.size(2), logits.size(3)};
  check(target.shape() == target_shape, "cross_entropy: target must have shape ", shape_str(target_shape),
        " for logits ", shape_str(logits.shape()), ", got ", shape_str(target.shape()));
  const int64_t C = logits.size(1);
  check(C > 0, "cross_entropy: the logits have no classes, shape ", shape_str(logits.shape()));
  if (p.class_weights.defined()) check_shape("cross_entropy", "class_weights", p.class_weights.shape(), {C});
  check_targets(target, C, p.ignore_index);

  const kernels::CrossEntropyGeometry g{.batch = logits.size(0),
                                        .classes = C,
                                        .inner = logits.dim() == 4 ? logits.size(2) * logits.size(3) : 1,
                                        .ignore_index = p.ignore_index};
  const float* weights = p.class_weights.defined() ? p.class_weights.data() : nullptr;
  const kernels::CrossEntropySums sums =
      kernels::cross_entropy_forward(logits.data(), target.data(), weights, g);
  // dL/dl_p: 1 for the sum, 1 / Σ w for the mean (0 without a valid pixel: no loss, no gradient).
  const bool mean = p.reduction == Reduction::mean;
  const double per_pixel = mean ? (sums.weight > 0.0 ? 1.0 / sums.weight : 0.0) : 1.0;
  Tensor loss = Tensor::scalar(static_cast<float>(sums.loss * per_pixel));

  record(loss, "cross_entropy", {logits},
         [logits, target, class_weights = p.class_weights, g, per_pixel](const Tensor& dloss) {
           float* dlogits = grad_accumulator(logits);  // (N, C, H, W) or (N, C)
           if (!dlogits) return;
           kernels::cross_entropy_backward(logits.data(), target.data(),
                                           class_weights.defined() ? class_weights.data() : nullptr,
                                           static_cast<float>(per_pixel * dloss.item()), dlogits, g);
         });
  return loss;
}

}  // namespace pg
