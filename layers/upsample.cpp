// Upsample layer: validates size-or-scale once, then calls resize_bilinear or
// resize_bilinear_scale.
#include "layers/upsample.h"

#include "core/ops/resize_bilinear.h"

namespace pg {

Upsample::Upsample(const UpsampleOptions& options) : options_(options) {
  bool has_size = options.out_h != 0 || options.out_w != 0;
  bool has_scale = options.scale != 0.0f;
  check(has_size != has_scale, "Upsample: give either a size (out_h, out_w) or a scale, not ",
        has_size ? "both" : "neither", " (got size ", options.out_h, "×", options.out_w, ", scale ",
        options.scale, ")");
  check(!has_size || (options.out_h > 0 && options.out_w > 0), "Upsample: size must be positive, got ",
        options.out_h, "×", options.out_w);
  check(!has_scale || options.scale > 0.0f, "Upsample: scale must be positive, got ", options.scale);
}

Tensor Upsample::forward(const Tensor& x) {
  if (options_.scale != 0.0f) return resize_bilinear_scale(x, options_.scale, options_.align_corners);
  return resize_bilinear(x, options_.out_h, options_.out_w, options_.align_corners);
}

}  // namespace pg
