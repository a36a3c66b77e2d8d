// The toy dataset: toy_layout() makes every random choice of one sample from its own Rng
// (seeded from (seed, index)), render_toy() paints background, texture and shapes from them.
#include "data/toy_dataset.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "data/derive_seed.h"

namespace pg {

const std::vector<std::string>& toy_class_names() {
  static const std::vector<std::string> names = {"background", "circle", "square",
                                                 "triangle",   "cross",  "ring"};
  return names;
}
const std::vector<std::string>& toy_scene_names() {
  static const std::vector<std::string> names = {"flat", "gradient", "noise", "grid"};
  return names;
}
const std::vector<std::string>& toy_texture_names() {
  static const std::vector<std::string> names = {"smooth", "speckle", "hatch", "dither"};
  return names;
}
const std::vector<std::string>& toy_material_names() {
  static const std::vector<std::string> names = {"background", "solid", "stripes", "dots", "checker"};
  return names;
}

namespace {

using Colour = std::array<float, 3>;
constexpr float kPi = 3.14159265358979f;

float distance(const Colour& a, const Colour& b) {
  float d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
  return std::sqrt(d0 * d0 + d1 * d1 + d2 * d2);
}

// An object's colour: uniform in the RGB cube, redrawn (at most 24 times, keeping the best) until
// it stands out from the background's colours and from the objects drawn before it. The class is
// never consulted: colour carries no information about the shape.
Colour object_colour(Rng& rng, const ToyLayout& layout) {
  Colour best{};
  float best_margin = -1.0f;
  for (int attempt = 0; attempt < 24; ++attempt) {
    Colour c = {rng.uniform(), rng.uniform(), rng.uniform()};
    // margin ≥ 0 when ≥ 0.4 from both background colours and ≥ 0.3 from every earlier object
    float margin = std::min(distance(c, layout.background_a), distance(c, layout.background_b)) - 0.4f;
    for (const ToyObject& earlier : layout.objects)
      margin = std::min(margin, distance(c, earlier.colour) - 0.3f);
    if (margin > best_margin) best = c, best_margin = margin;
    if (margin >= 0.0f) break;
  }
  return best;
}

// The second colour of a pattern: the object's colour pushed towards black (light colours) or
// white (dark ones), so the pattern shows on any colour.
Colour pattern_shade(const Colour& c) {
  float luma = 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2];
  Colour shade{};
  for (int k = 0; k < 3; ++k) shade[k] = luma > 0.5f ? c[k] * 0.45f : c[k] + (1.0f - c[k]) * 0.55f;
  return shade;
}

// Is the point (u, v) — object coordinates: rotated, divided by the radius, v pointing down —
// inside the shape? Each shape fits in the disc of radius 1.2.
bool inside_shape(ToyClass shape, float u, float v) {
  float r2 = u * u + v * v;
  switch (shape) {
    case ToyClass::circle:
      return r2 <= 1.0f;
    case ToyClass::square:  // half side 0.8: area close to the circle's
      return std::fabs(u) <= 0.8f && std::fabs(v) <= 0.8f;
    case ToyClass::triangle:  // equilateral, apex up, centroid at 0, circumradius 1.15
      return v <= 0.575f && v >= -1.15f + 1.7320508f * std::fabs(u);
    case ToyClass::cross:  // two bars 2 long and 0.6 wide
      return (std::fabs(u) <= 0.3f && std::fabs(v) <= 1.0f) || (std::fabs(v) <= 0.3f && std::fabs(u) <= 1.0f);
    case ToyClass::ring:  // hole of radius 0.55
      return r2 <= 1.0f && r2 >= 0.3025f;
    case ToyClass::background:
      break;
  }
  return false;
}

// Does the pattern show its second colour at offset (dx, dy) pixels from the object's centre?
bool pattern_on(const ToyObject& object, float dx, float dy) {
  switch (object.material) {
    case ToyMaterial::stripes: {
      float s = dx * std::cos(object.pattern_angle) + dy * std::sin(object.pattern_angle);
      return static_cast<int64_t>(std::floor(s / 2.0f)) % 2 != 0;
    }
    case ToyMaterial::dots: {  // dots of radius 1.2 on a 4-px lattice
      float fx = dx - 4.0f * std::round(dx / 4.0f), fy = dy - 4.0f * std::round(dy / 4.0f);
      return fx * fx + fy * fy <= 1.44f;
    }
    case ToyMaterial::checker:
      return (static_cast<int64_t>(std::floor(dx / 3.0f)) + static_cast<int64_t>(std::floor(dy / 3.0f))) %
                 2 !=
             0;
    case ToyMaterial::solid:
    case ToyMaterial::background:
      break;
  }
  return false;
}

// Smooth value noise in [0, 1]: random values on a grid of cell × cell pixels, interpolated with
// smoothstep weights. values: (rows, cols) row-major with rows = H/cell + 2, cols = W/cell + 2.
float value_noise(const std::vector<float>& values, int cols, int cell, float x, float y) {
  float gx = x / cell, gy = y / cell;
  int x0 = static_cast<int>(gx), y0 = static_cast<int>(gy);
  float tx = gx - x0, ty = gy - y0;
  tx = tx * tx * (3 - 2 * tx), ty = ty * ty * (3 - 2 * ty);
  auto at = [&](int r, int c) { return values[static_cast<size_t>(r) * cols + c]; };
  float top = at(y0, x0) + (at(y0, x0 + 1) - at(y0, x0)) * tx;
  float bottom = at(y0 + 1, x0) + (at(y0 + 1, x0 + 1) - at(y0 + 1, x0)) * tx;
  return top + (bottom - top) * ty;
}

// The background's blend weight t ∈ [0, 1] between the scene's colours at every pixel: (H, W).
std::vector<float> scene_weights(const ToyLayout& layout, int height, int width, Rng& pixel_rng) {
  std::vector<float> t(static_cast<size_t>(height) * width, 0.0f);
  const float cx = width / 2.0f, cy = height / 2.0f;
  const float extent = 0.5f * std::sqrt(static_cast<float>(height * height + width * width));
  std::vector<float> noise;
  const int cols = width / layout.noise_cell + 2, rows = height / layout.noise_cell + 2;
  if (layout.scene == ToyScene::noise) {
    noise.resize(static_cast<size_t>(rows) * cols);
    for (float& v : noise) v = pixel_rng.uniform();
  }
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      float px = x + 0.5f, py = y + 0.5f;
      float& w = t[static_cast<size_t>(y) * width + x];
      switch (layout.scene) {
        case ToyScene::flat:
          break;
        case ToyScene::gradient: {
          float s = (px - cx) * std::cos(layout.gradient_angle) + (py - cy) * std::sin(layout.gradient_angle);
          w = std::clamp(0.5f + 0.5f * s / extent, 0.0f, 1.0f);
          break;
        }
        case ToyScene::noise:
          w = value_noise(noise, cols, layout.noise_cell, px, py);
          break;
        case ToyScene::grid:
          w = ((x + layout.grid_offset_x) % layout.grid_period == 0 ||
               (y + layout.grid_offset_y) % layout.grid_period == 0)
                  ? 1.0f
                  : 0.0f;
          break;
      }
    }
  return t;
}

// The texture's additive overlay on the background at pixel (x, y).
float texture_offset(ToyTexture texture, int x, int y, Rng& pixel_rng) {
  switch (texture) {
    case ToyTexture::speckle:
      return pixel_rng.normal(0.0f, 0.04f);
    case ToyTexture::hatch:
      return (x + y) % 4 == 0 ? 0.07f : 0.0f;
    case ToyTexture::dither:
      return (x + y) % 2 == 0 ? 0.04f : -0.04f;
    case ToyTexture::smooth:
      break;
  }
  return 0.0f;
}

// label → label with 255 wherever another class lies within Chebyshev distance `width`.
void mark_border_band(LabelMap& label, int width) {
  const int64_t height = label.size(0), cols = label.size(1);
  std::vector<int32_t> original(label.data(), label.data() + label.numel());
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < cols; ++x) {
      const int32_t own = original[y * cols + x];
      bool border = false;
      for (int64_t yy = std::max<int64_t>(0, y - width); yy <= std::min(height - 1, y + width) && !border;
           ++yy)
        for (int64_t xx = std::max<int64_t>(0, x - width); xx <= std::min(cols - 1, x + width); ++xx)
          if (original[yy * cols + xx] != own) {
            border = true;
            break;
          }
      if (border) label.data()[y * cols + x] = 255;
    }
}

}  // namespace

ToyLayout toy_layout(const ToyOptions& options, int64_t index) {
  Rng rng(derive_seed(options.seed, SeedStream::toy_sample, static_cast<uint64_t>(index)));
  ToyLayout layout;
  layout.scene = static_cast<ToyScene>(rng.below(kToySceneCount));
  layout.texture = static_cast<ToyTexture>(rng.below(kToyTextureCount));
  for (int k = 0; k < 3; ++k) {
    layout.background_a[k] = rng.uniform(0.1f, 0.9f);
    layout.background_b[k] = std::clamp(layout.background_a[k] + rng.uniform(-0.35f, 0.35f), 0.0f, 1.0f);
  }
  layout.gradient_angle = rng.uniform(0.0f, 2.0f * kPi);
  layout.noise_cell = 6 + static_cast<int>(rng.below(9));
  layout.grid_period = 6 + static_cast<int>(rng.below(7));
  layout.grid_offset_x = static_cast<int>(rng.below(layout.grid_period));
  layout.grid_offset_y = static_cast<int>(rng.below(layout.grid_period));
  layout.pixel_seed = (static_cast<uint64_t>(rng.next_u32()) << 32) | rng.next_u32();

  // Sizes log-uniform (as many small objects as large ones per octave), drawn largest first so a
  // small object is never hidden behind a larger one; larger ones are occluded in part.
  const int objects =
      options.min_objects + static_cast<int>(rng.below(options.max_objects - options.min_objects + 1));
  const float min_side = options.min_object_size;
  const float max_side =
      std::max(min_side, options.max_object_fraction * std::min(options.height, options.width));
  std::vector<float> sides(objects);
  for (float& side : sides) side = min_side * std::exp(rng.uniform() * std::log(max_side / min_side));
  std::sort(sides.begin(), sides.end(), std::greater<float>());

  for (float side : sides) {
    ToyObject object;
    object.shape = static_cast<ToyClass>(1 + rng.below(kToyClassCount - 1));
    object.radius = side / 2.0f;
    // The centre keeps at least three quarters of the bounding box's width inside the image.
    const float margin = 0.5f * object.radius;
    object.centre_x = rng.uniform(std::min(margin, options.width / 2.0f),
                                  std::max(options.width - margin, options.width / 2.0f));
    object.centre_y = rng.uniform(std::min(margin, options.height / 2.0f),
                                  std::max(options.height - margin, options.height / 2.0f));
    object.angle = rng.uniform(-kPi / 6.0f, kPi / 6.0f);
    object.material = static_cast<ToyMaterial>(1 + rng.below(kToyMaterialCount - 1));
    object.pattern_angle = rng.uniform(0.0f, kPi);
    object.colour = object_colour(rng, layout);
    object.pattern_colour = pattern_shade(object.colour);
    layout.objects.push_back(object);
  }
  return layout;
}

Sample render_toy(const ToyLayout& layout, const ToyOptions& options) {
  const int height = options.height, width = options.width;
  const int64_t plane = static_cast<int64_t>(height) * width;
  Sample sample;
  sample.image = Tensor::empty({3, height, width});
  sample.label = LabelMap({height, width}, static_cast<int32_t>(ToyClass::background));
  sample.part = LabelMap({height, width}, kToyNoPart);
  sample.material = LabelMap({height, width}, static_cast<int32_t>(ToyMaterial::background));
  sample.scene = static_cast<int>(layout.scene);
  sample.texture = static_cast<int>(layout.texture);
  float* rgb = sample.image.data();  // (3, H, W)

  // Background: the scene's blend of its two colours, plus the texture's overlay.
  Rng pixel_rng(layout.pixel_seed);
  const std::vector<float> t = scene_weights(layout, height, width, pixel_rng);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int64_t i = static_cast<int64_t>(y) * width + x;
      const float overlay = texture_offset(layout.texture, x, y, pixel_rng);
      for (int k = 0; k < 3; ++k)
        rgb[k * plane + i] =
            layout.background_a[k] + (layout.background_b[k] - layout.background_a[k]) * t[i] + overlay;
    }

  // Objects in order, each over its bounding square; a pixel belongs to the last object covering
  // its centre (occlusion), and takes that object's class, part and material.
  for (const ToyObject& object : layout.objects) {
    const float reach = 1.2f * object.radius;
    const int x0 = std::max(0, static_cast<int>(std::floor(object.centre_x - reach)));
    const int x1 = std::min(width - 1, static_cast<int>(std::ceil(object.centre_x + reach)));
    const int y0 = std::max(0, static_cast<int>(std::floor(object.centre_y - reach)));
    const int y1 = std::min(height - 1, static_cast<int>(std::ceil(object.centre_y + reach)));
    const float cos_a = std::cos(object.angle), sin_a = std::sin(object.angle);
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const float dx = x + 0.5f - object.centre_x, dy = y + 0.5f - object.centre_y;
        // (u, v): the pixel in the object's frame, rotated back by its angle, in radii
        const float u = (dx * cos_a + dy * sin_a) / object.radius;
        const float v = (-dx * sin_a + dy * cos_a) / object.radius;
        if (!inside_shape(object.shape, u, v)) continue;
        const int64_t i = static_cast<int64_t>(y) * width + x;
        const Colour& c = pattern_on(object, dx, dy) ? object.pattern_colour : object.colour;
        for (int k = 0; k < 3; ++k) rgb[k * plane + i] = c[k];
        sample.label.data()[i] = static_cast<int32_t>(object.shape);
        sample.part.data()[i] = static_cast<int32_t>(dy < 0.0f ? ToyPart::upper : ToyPart::lower);
        sample.material.data()[i] = static_cast<int32_t>(object.material);
      }
  }
  for (int64_t i = 0; i < 3 * plane; ++i) rgb[i] = std::clamp(rgb[i], 0.0f, 1.0f);
  if (options.border_ignore > 0) mark_border_band(sample.label, options.border_ignore);
  return sample;
}

ToyDataset::ToyDataset(ToyOptions options) : options_(options) {
  check(options.height > 0 && options.width > 0, "ToyDataset: image size must be positive, got ",
        options.height, "x", options.width);
  check(options.count >= 0, "ToyDataset: count must be ≥ 0, got ", options.count);
  check(options.first_index >= 0, "ToyDataset: first_index must be ≥ 0, got ", options.first_index);
  check(options.min_objects >= 0 && options.max_objects >= options.min_objects,
        "ToyDataset: expected 0 ≤ min_objects ≤ max_objects, got ", options.min_objects, " and ",
        options.max_objects);
  check(options.min_object_size >= 1.0f, "ToyDataset: min_object_size must be ≥ 1 pixel, got ",
        options.min_object_size);
  check(options.max_object_fraction > 0.0f && options.max_object_fraction <= 1.0f,
        "ToyDataset: max_object_fraction must be in (0, 1], got ", options.max_object_fraction);
  check(options.border_ignore >= 0, "ToyDataset: border_ignore must be ≥ 0, got ", options.border_ignore);
}

Sample ToyDataset::get(int64_t index) const {
  check(index >= 0 && index < options_.count, "ToyDataset: index ", index, " out of range [0, ",
        options_.count, ")");
  const int64_t absolute = options_.first_index + index;
  Sample sample = render_toy(toy_layout(options_, absolute), options_);
  sample.name = str("toy-", absolute);
  return sample;
}

ToyOptions toy_sample_train_options() {
  return ToyOptions{.height = 64, .width = 64, .count = 6, .seed = 2024, .first_index = 0};
}

ToyOptions toy_sample_val_options() {
  return ToyOptions{.height = 64, .width = 64, .count = 2, .seed = 2024, .first_index = 6};
}

}  // namespace pg
