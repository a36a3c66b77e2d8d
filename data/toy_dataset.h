// The toy dataset: procedurally drawn RGB images of five shape classes on varied backgrounds, with
// every label a multi-task net needs. Each sample is a pure function of (seed, index): nothing is
// stored, any sample can be drawn on any thread, and the same seed always gives the same data.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace pg {

// ---- What the labels mean -----------------------------------------------------------------------
// Object class per pixel (Sample::label): the shape, never the colour. kToyClassCount equals
// nets/registry.h's kToyClasses (a test checks it); 255 marks the optional border band.
enum class ToyClass : int32_t { background = 0, circle = 1, square = 2, triangle = 3, cross = 4, ring = 5 };
constexpr int kToyClassCount = 6;

// Scene (Sample::scene, image-level): how the background is laid out.
//   flat: one colour · gradient: two colours blended along a random direction ·
//   noise: two colours mixed by smooth value noise (blotches 6–14 px) · grid: 1-px lines on a flat colour.
enum class ToyScene : int32_t { flat = 0, gradient = 1, noise = 2, grid = 3 };
constexpr int kToySceneCount = 4;

// Texture (Sample::texture, image-level): a faint fine-grained overlay on the background only,
// independent of the scene (any texture on any scene). Amplitude about ±0.05.
//   smooth: none · speckle: per-pixel Gaussian noise · hatch: 1-px diagonal lines every 4 px ·
//   dither: a 1-px checkerboard.
enum class ToyTexture : int32_t { smooth = 0, speckle = 1, hatch = 2, dither = 3 };
constexpr int kToyTextureCount = 4;

// Material per pixel (Sample::material): 0 on the background, else the object's fill pattern.
//   solid: one colour · stripes: 2-px bands at a random angle · dots: a 4-px lattice of dots ·
//   checker: 3-px squares. Patterns alternate the object's colour with a darker/lighter shade.
enum class ToyMaterial : int32_t { background = 0, solid = 1, stripes = 2, dots = 3, checker = 4 };
constexpr int kToyMaterialCount = 5;

// Part per pixel (Sample::part): the upper (pixel centre above the object's centre) or lower half
// of the object that owns the pixel; 255 on the background.
enum class ToyPart : int32_t { upper = 0, lower = 1 };
constexpr int kToyPartCount = 2;
constexpr int32_t kToyNoPart = 255;

const std::vector<std::string>& toy_class_names();     // "background", "circle", …
const std::vector<std::string>& toy_scene_names();     // "flat", "gradient", "noise", "grid"
const std::vector<std::string>& toy_texture_names();   // "smooth", "speckle", "hatch", "dither"
const std::vector<std::string>& toy_material_names();  // "background", "solid", "stripes", …

// ---- Options -------------------------------------------------------------------------------------
struct ToyOptions {
  int height = 64;
  int width = 64;
  int64_t count = 1000;     // samples in the dataset
  uint64_t seed = 1;        // the whole dataset follows from it
  int64_t first_index = 0;  // sample i is drawn as index first_index + i (named "toy-<that index>"):
                            // two datasets with one seed and disjoint ranges never share an image
  int min_objects = 1;
  int max_objects = 4;
  float min_object_size = 6.0f;       // bounding-box side in pixels, drawn log-uniformly …
  float max_object_fraction = 0.85f;  // … up to this fraction of min(height, width)
  int border_ignore = 0;  // > 0: class-label pixels with another class within this Chebyshev distance
                          // become 255 (a band 2·border_ignore wide on every edge, as VOC's)
};

// ---- The drawing, as data -------------------------------------------------------------------------
// A sample is drawn in two steps: toy_layout() makes every random choice, render_toy() paints the
// pixels from them. Tests read the layout (e.g. to check colours are independent of the class).
struct ToyObject {
  ToyClass shape = ToyClass::circle;
  float centre_x = 0, centre_y = 0;  // pixels, image coordinates (x right, y down)
  float radius = 0;                  // half the bounding-box side, pixels
  float angle = 0;                   // rotation, radians
  ToyMaterial material = ToyMaterial::solid;
  std::array<float, 3> colour{};          // RGB in [0, 1]
  std::array<float, 3> pattern_colour{};  // the second colour of stripes, dots and checker
  float pattern_angle = 0;                // stripes' direction, radians
};

struct ToyLayout {
  ToyScene scene = ToyScene::flat;
  ToyTexture texture = ToyTexture::smooth;
  std::array<float, 3> background_a{}, background_b{};  // the scene's two colours
  float gradient_angle = 0;                             // gradient: direction of the blend
  int noise_cell = 8;                                   // noise: value-noise cell side, pixels
  int grid_period = 8, grid_offset_x = 0, grid_offset_y = 0;
  uint64_t pixel_seed = 0;         // value noise and speckle draw their values from it
  std::vector<ToyObject> objects;  // in drawing order: later objects occlude earlier ones
};

// Every random choice of sample `index` (absolute: first_index already added).
ToyLayout toy_layout(const ToyOptions& options, int64_t index);
// Paints a layout: image (3, H, W) in [0, 1], label, part, material, scene and texture.
Sample render_toy(const ToyLayout& layout, const ToyOptions& options);

// ---- The dataset ----------------------------------------------------------------------------------
class ToyDataset : public Dataset {
 public:
  explicit ToyDataset(ToyOptions options);  // pg::Error on sizes or counts that cannot be drawn
  int64_t size() const override { return options_.count; }
  Sample get(int64_t index) const override;  // named "toy-<first_index + index>"
  int num_classes() const override { return kToyClassCount; }
  std::vector<std::string> class_names() const override { return toy_class_names(); }
  const ToyOptions& options() const { return options_; }

 private:
  ToyOptions options_;
};

// The options of the sample committed under data/toy_sample/ (6 train + 2 val images, 64×64):
// a test regenerates it and compares, so the files always match the generator.
ToyOptions toy_sample_train_options();
ToyOptions toy_sample_val_options();

}  // namespace pg
