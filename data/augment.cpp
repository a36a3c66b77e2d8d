// Augmentation of a Sample: the geometric transforms act on the image and on each defined label
// map alike (labels only ever by nearest neighbour, copy or padding with 255: never blended).
#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/resize_bilinear.h"

namespace pg {

namespace {

constexpr int32_t kIgnore = 255;

void check_sample(const char* op, const Sample& sample) {
  check(sample.image.defined() && sample.image.dim() == 3 && sample.image.size(0) == 3, op,
        ": expected a (3, H, W) image in sample '", sample.name, "', got ",
        sample.image.defined() ? shape_str(sample.image.shape()) : "undefined");
  const Shape hw = {sample.image.size(1), sample.image.size(2)};
  for (const LabelMap* map : {&sample.label, &sample.part, &sample.material})
    if (map->defined())
      check(map->shape() == hw, op, ": label map ", shape_str(map->shape()), " does not match image ",
            shape_str(sample.image.shape()), " in sample '", sample.name, "'");
  check(sample.label.defined(), op, ": sample '", sample.name, "' has no class label");
}

// The same sample with each defined label map replaced by f(map); image and image-level labels kept.
Sample map_labels(const Sample& sample, Tensor image, const std::function<LabelMap(const LabelMap&)>& f) {
  Sample out = sample;
  out.image = std::move(image);
  out.label = f(sample.label);
  if (sample.part.defined()) out.part = f(sample.part);
  if (sample.material.defined()) out.material = f(sample.material);
  return out;
}

// Nearest source index of destination index `dst` for an in → out resize, half-pixel centres:
// floor((dst + 0.5) · in / out), the pixel whose span contains the destination pixel's centre.
int nearest_source(int dst, int in, int out) {
  return std::min(
      in - 1, static_cast<int>((static_cast<int64_t>(2 * dst + 1) * in) / (2 * static_cast<int64_t>(out))));
}

}  // namespace

Sample resize_sample(const Sample& sample, int out_h, int out_w) {
  check_sample("resize_sample", sample);
  check(out_h > 0 && out_w > 0, "resize_sample: output size must be positive, got ", out_h, "x", out_w);
  const int in_h = static_cast<int>(sample.image.size(1)), in_w = static_cast<int>(sample.image.size(2));
  NoGradGuard no_grad;
  const Tensor image = resize_bilinear(sample.image.reshape({1, 3, in_h, in_w}), out_h, out_w, false)
                           .reshape({3, out_h, out_w});
  std::vector<int> source_x(out_w);
  for (int x = 0; x < out_w; ++x) source_x[x] = nearest_source(x, in_w, out_w);
  return map_labels(sample, image, [&](const LabelMap& in) {
    LabelMap out({out_h, out_w});
    for (int y = 0; y < out_h; ++y) {
      const int32_t* row = in.data() + static_cast<int64_t>(nearest_source(y, in_h, out_h)) * in_w;
      for (int x = 0; x < out_w; ++x) out.data()[static_cast<int64_t>(y) * out_w + x] = row[source_x[x]];
    }
    return out;
  });
}

Sample crop_sample(const Sample& sample, int top, int left, int height, int width) {
  check_sample("crop_sample", sample);
  check(height > 0 && width > 0, "crop_sample: crop size must be positive, got ", height, "x", width);
  const int in_h = static_cast<int>(sample.image.size(1)), in_w = static_cast<int>(sample.image.size(2));
  const int64_t in_plane = static_cast<int64_t>(in_h) * in_w,
                out_plane = static_cast<int64_t>(height) * width;
  // the rows and columns of the window that fall inside the image
  const int y0 = std::max(0, -top), y1 = std::min(height, in_h - top);
  const int x0 = std::max(0, -left), x1 = std::min(width, in_w - left);
  Tensor image = Tensor::zeros({3, height, width});
  for (int c = 0; c < 3; ++c)
    for (int y = y0; y < y1; ++y)
      std::copy_n(sample.image.data() + c * in_plane + static_cast<int64_t>(top + y) * in_w + left + x0,
                  x1 - x0, image.data() + c * out_plane + static_cast<int64_t>(y) * width + x0);
  return map_labels(sample, image, [&](const LabelMap& in) {
    LabelMap out({height, width}, kIgnore);
    for (int y = y0; y < y1; ++y)
      std::copy_n(in.data() + static_cast<int64_t>(top + y) * in_w + left + x0, x1 - x0,
                  out.data() + static_cast<int64_t>(y) * width + x0);
    return out;
  });
}

Sample flip_sample(const Sample& sample) {
  check_sample("flip_sample", sample);
  const int64_t height = sample.image.size(1), width = sample.image.size(2);
  Tensor image = Tensor::empty({3, height, width});
  for (int64_t row = 0; row < 3 * height; ++row)
    std::reverse_copy(sample.image.data() + row * width, sample.image.data() + (row + 1) * width,
                      image.data() + row * width);
  return map_labels(sample, image, [&](const LabelMap& in) {
    LabelMap out({height, width});
    for (int64_t row = 0; row < height; ++row)
      std::reverse_copy(in.data() + row * width, in.data() + (row + 1) * width, out.data() + row * width);
    return out;
  });
}

Sample augment_sample(const Sample& sample, const AugmentOptions& options, int crop_h, int crop_w, Rng& rng) {
  check_sample("augment_sample", sample);
  check(options.scale_min > 0.0f && options.scale_min <= options.scale_max,
        "augment_sample: expected 0 < scale_min ≤ scale_max, got ", options.scale_min, " and ",
        options.scale_max);
  check(crop_h > 0 && crop_w > 0, "augment_sample: crop size must be positive, got ", crop_h, "x", crop_w);
  const float scale = rng.uniform(options.scale_min, options.scale_max);
  const int h = std::max(1, static_cast<int>(std::lround(sample.image.size(1) * scale)));
  const int w = std::max(1, static_cast<int>(std::lround(sample.image.size(2) * scale)));
  Sample out =
      (h == sample.image.size(1) && w == sample.image.size(2)) ? sample : resize_sample(sample, h, w);
  // top ∈ [0, h − crop_h] when the image is taller than the crop, else [h − crop_h, 0] (padding)
  const int top = std::min(0, h - crop_h) + static_cast<int>(rng.below(std::abs(h - crop_h) + 1));
  const int left = std::min(0, w - crop_w) + static_cast<int>(rng.below(std::abs(w - crop_w) + 1));
  out = crop_sample(out, top, left, crop_h, crop_w);
  if (options.flip && rng.uniform() < 0.5f) out = flip_sample(out);
  return out;
}

Tensor normalise(const Tensor& image, const Normalisation& normalisation) {
  check(image.defined() && (image.dim() == 3 || image.dim() == 4) && image.size(-3) == 3,
        "normalise: expected a (3, H, W) or (N, 3, H, W) image, got ",
        image.defined() ? shape_str(image.shape()) : "undefined");
  for (int c = 0; c < 3; ++c)
    check(normalisation.std[c] > 0.0f, "normalise: std of channel ", c, " must be positive, got ",
          normalisation.std[c]);
  const int64_t plane = image.size(-1) * image.size(-2);
  const int64_t images = image.dim() == 4 ? image.size(0) : 1;
  Tensor out = Tensor::empty(image.shape());
  for (int64_t n = 0; n < images; ++n)
    for (int c = 0; c < 3; ++c) {
      const float mean = normalisation.mean[c], inv_std = 1.0f / normalisation.std[c];
      const float* src = image.data() + (n * 3 + c) * plane;
      float* dst = out.data() + (n * 3 + c) * plane;
      for (int64_t i = 0; i < plane; ++i) dst[i] = (src[i] - mean) * inv_std;
    }
  return out;
}

}  // namespace pg
