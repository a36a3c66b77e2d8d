// The per-pixel patch classification baseline (Ciresan, Giusti, Gambardella, Schmidhuber, "Deep
// Neural Networks Segment Neuronal Membranes in Electron Microscopy Images", NIPS 2012): a small
// CNN (valid convs, each followed by a 2×2 max-pool of stride 2, then fully connected layers)
// labels a pixel by classifying the odd-sided patch centred on it. Trained on pixels sampled
// from the labels; at inference it runs once per pixel (forward_per_pixel) — or, identically and
// far cheaper, once per image (forward): the fully connected layers rewritten as convolutions
// with the same weights (FCN's "convolutionalisation"), and each stride-2 pool replaced by a
// stride-1 pool whose window and every later kernel are dilated by the stride so far (the "à
// trous" / fast-scanning trick of Giusti et al. 2013, DeepLab's "hole" algorithm). Without the
// dilation the convolutionalised net would give one output per 2^pools pixels; with it, one per
// pixel, each exactly the patch classifier's output for that pixel.
//
// full: Ciresan et al.'s net N4 (95×95 patch; convs 48@4×4, 48@5×5, 48@4×4, 48@4×4, each pooled;
// fc 200; fc C), with ReLU for their scaled tanh and 3 input channels for their grey 1.
// tiny: a 17×17 patch; convs 16@4×4, 32@4×4, each pooled; fc 64; fc C.
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/max_pool2d.h"
#include "layers/sequential.h"
#include "nets/segmentation_net.h"

namespace pg {

struct PatchCnnConfig {
  int num_classes = 2;
  int in_channels = 3;
  int patch_size = 95;                   // odd: the patch is centred on its pixel
  std::vector<int64_t> conv_channels;    // one valid conv (+ ReLU + 2×2/2 max-pool) per entry
  std::vector<int> conv_kernels;         // their square kernel sides
  std::vector<int64_t> hidden_features;  // fully connected layers (+ ReLU) before the classifier
  int pixels_per_image = 64;             // pixels sampled per image for the loss; 0: every labelled one

  static PatchCnnConfig full(int num_classes);  // Ciresan et al.'s N4
  static PatchCnnConfig tiny(int num_classes);
};

class PatchCnn : public SegmentationNet {
 public:
  PatchCnn(const PatchCnnConfig& config, Rng& rng);

  // The dense convolutionalised net: images (N, in_channels, H, W), zero-padded by patch_size/2,
  // → logits (N, C, H, W); logits[n, :, y, x] = classify_patches(the patch centred on (y, x)).
  Tensor forward(const Tensor& images) override;
  // The same logits by classifying every pixel's patch on its own, one image row at a time.
  // Inference only: runs without recording an autograd graph.
  Tensor forward_per_pixel(const Tensor& images);
  // The patch classifier itself: patches (M, in_channels, P, P) → logits (M, C).
  Tensor classify_patches(const Tensor& patches);

  // Cross-entropy of classify_patches over pixels_per_image labelled pixels per image, drawn
  // without replacement from the net's own Rng (all of them when there are no more than that).
  // Ignored pixels are never drawn.
  Tensor training_loss(const Batch& batch, const CrossEntropyParams& loss) override;

  int num_classes() const override { return config_.num_classes; }
  const PatchCnnConfig& config() const { return config_; }
  Rng& sampling_rng() { return sampling_rng_; }  // its state() goes into a checkpoint

 private:
  void check_images(const char* who, const Tensor& images) const;

  PatchCnnConfig config_;
  int64_t final_side_ = 0;  // side of the last pooled map inside a patch (the first fc's window)
  std::vector<std::shared_ptr<Conv2d>> convs_;
  std::vector<std::shared_ptr<Linear>> fcs_;  // the hidden layers, then the classifier
  MaxPool2d pool_;                            // 2×2, stride 2 (per patch)
  Rng sampling_rng_;
};

std::shared_ptr<PatchCnn> make_patch_cnn(const PatchCnnConfig& config, uint64_t seed);

}  // namespace pg
