// Training augmentation on one Sample: resize (bilinear for the image, nearest neighbour for every
// label map), crop with padding (image 0, labels 255), horizontal flip, and per-channel
// normalisation. Every label map (class, part, material) moves with the image, pixel for pixel.
#pragma once
#include "core/rng.h"
#include "data/dataset.h"
#include "data/loader.h"

namespace pg {

// To out_h × out_w. Both resamplers use the same half-pixel convention (source = (dst + 0.5) ·
// in/out − 0.5, i.e. align_corners = false), so a label pixel stays under its image pixel.
Sample resize_sample(const Sample& sample, int out_h, int out_w);

// The window [top, top + height) × [left, left + width), which may reach outside the image (negative
// top/left, or past the far edge): the part outside is padded, image with 0 and labels with 255.
Sample crop_sample(const Sample& sample, int top, int left, int height, int width);

// Mirrors left ↔ right.
Sample flip_sample(const Sample& sample);

// The training chain: scale by s ~ U[scale_min, scale_max] (size rounded, at least 1 pixel), crop
// crop_h × crop_w at a uniformly random place (when the scaled image is smaller than the crop, it is
// placed at a random offset inside the padded window), then flip with probability ½.
Sample augment_sample(const Sample& sample, const AugmentOptions& options, int crop_h, int crop_w, Rng& rng);

// image: (3, H, W) or (N, 3, H, W) RGB in [0, 1] → (v − mean[c]) / std[c], a new tensor.
Tensor normalise(const Tensor& image, const Normalisation& normalisation);

}  // namespace pg
