// Helpers of the net tests. expect_net_matches_golden replays one golden training step written by a net's
// PyTorch twin (tools/reference/golden.py: net_golden) and compares, printing the first differing pairs and
// the maximum difference: logits = net.forward(input), loss = net.training_loss(batch) (called in that order,
// as the twin does), d loss / d input, every parameter's gradient, and the buffers after the step.
//
//   auto net = make_fcn8s(micro_config, rng);
//   test::expect_net_matches_golden(*net, "tests/golden/fcn8s.safetensors");
#pragma once
#include <cstdint>
#include <string>

#include "nets/segmentation_net.h"

namespace pg::test {

struct GoldenTolerance {
  float output_rtol = 1e-4f;  // logits, loss, buffers
  float output_atol = 1e-5f;
  float grad_rtol = 1e-3f;  // gradients
  float grad_atol = 1e-4f;
};

// Loads every "state.<name>" into the net (strict: names and shapes must match both ways), puts
// the net in train mode and runs the step. The batch's multi-task labels ("parts", "materials",
// "scenes", "textures") and "class_weights" are used when the file has them; the metadata's
// "reduction" picks mean or sum.
void expect_net_matches_golden(SegmentationNet& net, const std::string& path,
                               const GoldenTolerance& tolerance = {});

// Labels in block×block squares: class (y/block + x/block + n) mod classes — a pattern every net
// can learn, for the overfit tests.
LabelMap block_labels(int64_t n, int64_t h, int64_t w, int classes, int64_t block = 4);

// Trains `net` on one batch with Adam for `steps` steps and passes when the last training loss is
// below first / `factor`; prints both losses either way.
void expect_net_overfits(SegmentationNet& net, const Batch& batch, int steps, float lr = 1e-2f,
                         float factor = 10.0f);

// `steps` Adam steps of net.training_loss on one batch (to give a net trained weights).
void train_steps(SegmentationNet& net, const Batch& batch, int steps, float lr = 1e-2f);

// Passes when `copy` holds the same state as `original`: the same names in the same order, the
// same shapes and values, in storage of its own (a copy, not shared tensors).
void expect_same_state(const Module& copy, const Module& original);

}  // namespace pg::test
