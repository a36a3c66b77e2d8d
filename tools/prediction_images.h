// Pictures of predictions: label maps coloured with the VOC palette, overlays of those colours on
// the image, and a grid of image | ground truth | prediction | overlay rows for a quick look.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "nets/segmentation_net.h"

namespace pg {

// VOC's colour map (bit-interleaved palette of the VOC devkit): 0 black, 1 dark red, 2 green, …
std::array<uint8_t, 3> label_colour(int index);

// label: (H, W) → RGB image of its classes' colours.
Image8 colourise(const LabelMap& label);
// image: (3, H, W) in [0, 1] blended with the label's colours (alpha of the colour; background,
// class 0, left as it is).
Image8 overlay(const Tensor& image, const LabelMap& label, float alpha = 0.55f);

// The net's prediction for one image (3, H, W) in [0, 1]: normalised, padded to a multiple of
// pad_multiple, through the net without gradients, argmax, cropped back → (H, W).
LabelMap predict_labels(SegmentationNet& net, const Tensor& image, int pad_multiple);

// Writes <out_dir>/<name>_pred.png and <name>_overlay.png for the first `count` samples, and
// <out_dir>/grid.png (one row per sample: image, ground truth, prediction, overlay, each scaled
// `zoom`×). Returns the grid's path.
std::string write_prediction_pictures(SegmentationNet& net, const Dataset& dataset, int64_t count,
                                      const std::string& out_dir, int pad_multiple, int zoom = 2);

}  // namespace pg
