// Softmax, log-softmax and softmax cross-entropy over the channel axis of a buffer viewed as
// (outer, channels, inner): for NCHW logits and dim = 1, outer = N and inner = H·W. The fast
// versions work on blocks of up to 256 neighbouring positions of one outer index, so every loop
// over a block is contiguous and vectorised; the _reference versions take one position at a time
// in double and compute the same thing.
#pragma once
#include <cstdint>

namespace pg::kernels {

struct SoftmaxGeometry {
  int64_t outer = 1;
  int64_t channels = 1;  // the axis the softmax runs over
  int64_t inner = 1;
};

// x, y, dy, dx: (outer, channels, inner). m = max_c x (subtracted for stability).
// softmax:     y_c = e^(x_c − m) / Σ_k e^(x_k − m)
// log_softmax: y_c = x_c − m − log Σ_k e^(x_k − m)
void softmax_forward(const float* x, float* y, const SoftmaxGeometry& g);
void softmax_forward_reference(const float* x, float* y, const SoftmaxGeometry& g);
void log_softmax_forward(const float* x, float* y, const SoftmaxGeometry& g);
void log_softmax_forward_reference(const float* x, float* y, const SoftmaxGeometry& g);

// From the forward's output y; accumulated into dx.
// softmax:     dx += y ⊙ (dy − Σ_c dy·y)
// log_softmax: dx += dy − e^y · Σ_c dy
void softmax_backward(const float* y, const float* dy, float* dx, const SoftmaxGeometry& g);
void softmax_backward_reference(const float* y, const float* dy, float* dx, const SoftmaxGeometry& g);
void log_softmax_backward(const float* y, const float* dy, float* dx, const SoftmaxGeometry& g);
void log_softmax_backward_reference(const float* y, const float* dy, float* dx, const SoftmaxGeometry& g);

// Cross-entropy on logits z: (N, C, inner) with targets t: (N, inner), each in [0, C) or equal to
// ignore_index (checked by the caller). class_weight: (C), or null for all ones.
struct CrossEntropyGeometry {
  int64_t batch = 1;    // N
  int64_t classes = 1;  // C
  int64_t inner = 1;    // H·W (1 for (N, C) logits)
  int32_t ignore_index = 255;
};

// Over valid pixels p: loss = Σ w[t_p] · (log Σ_c e^(z_pc) − z_p,t_p), weight = Σ w[t_p].
struct CrossEntropySums {
  double loss = 0.0;
  double weight = 0.0;
};

CrossEntropySums cross_entropy_forward(const float* logits, const int32_t* target, const float* class_weight,
                                       const CrossEntropyGeometry& g);
CrossEntropySums cross_entropy_forward_reference(const float* logits, const int32_t* target,
                                                 const float* class_weight, const CrossEntropyGeometry& g);

// dz_pc += scale · w[t_p] · (softmax(z_p)_c − [c = t_p]) at valid pixels (scale: dloss, divided by
// the weight sum for the mean).
void cross_entropy_backward(const float* logits, const int32_t* target, const float* class_weight,
                            float scale, float* dlogits, const CrossEntropyGeometry& g);
void cross_entropy_backward_reference(const float* logits, const int32_t* target, const float* class_weight,
                                      float scale, float* dlogits, const CrossEntropyGeometry& g);

}  // namespace pg::kernels
