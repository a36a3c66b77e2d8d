// Softmax, log-softmax and cross-entropy kernels (see softmax.h). The fast versions split the
// positions of each outer index into blocks of kBlock; within a block, every step is one pass over
// the channels, each pass a contiguous loop over the block's positions.
#include "kernels/cpu/softmax.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace pg::kernels {

namespace {

constexpr int64_t kBlock = 256;

// Calls body(o, begin, length) for every block: positions [begin, begin + length) of outer index o.
// Blocks are independent, so they are shared among the threads.
template <typename Body>
void for_each_block(int64_t outer, int64_t channels, int64_t inner, const Body& body) {
  const int64_t blocks_per_outer = (inner + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (worth_threads(outer * channels * inner))
  for (int64_t block = 0; block < outer * blocks_per_outer; ++block) {
    const int64_t o = block / blocks_per_outer, begin = (block % blocks_per_outer) * kBlock;
    body(o, begin, std::min(kBlock, inner - begin));
  }
}

// For a block whose channel c starts at x + c·inner: m[i] = max_c x_c[i], for i < length.
void block_max(const float* x, int64_t channels, int64_t inner, int64_t length, float* m) {
  for (int64_t i = 0; i < length; ++i) m[i] = x[i];
  for (int64_t c = 1; c < channels; ++c) {
    const float* xc = x + c * inner;
#pragma omp simd
    for (int64_t i = 0; i < length; ++i) m[i] = std::max(m[i], xc[i]);
  }
}

// The same block: m[i] = max_c x_c[i] and s[i] = Σ_c e^(x_c[i] − m[i]), for i < length.
void block_max_and_exp_sum(const float* x, int64_t channels, int64_t inner, int64_t length, float* m,
                           float* s) {
  block_max(x, channels, inner, length, m);
  for (int64_t i = 0; i < length; ++i) s[i] = 0.0f;
  for (int64_t c = 0; c < channels; ++c) {
    const float* xc = x + c * inner;
    for (int64_t i = 0; i < length; ++i) s[i] += std::exp(xc[i] - m[i]);
  }
}

// The reference's view of one position: the C values x[c·inner], c < C, in double.
void position_log_sum_exp(const float* x, int64_t channels, int64_t inner, double& max, double& log_sum) {
  max = x[0];
  for (int64_t c = 1; c < channels; ++c) max = std::max(max, static_cast<double>(x[c * inner]));
  double sum = 0.0;
  for (int64_t c = 0; c < channels; ++c) sum += std::exp(x[c * inner] - max);
  log_sum = std::log(sum);
}

}  // namespace

// ---- softmax / log_softmax forward ----

void softmax_forward(const float* x, float* y, const SoftmaxGeometry& g) {
  const int64_t C = g.channels, inner = g.inner;
  for_each_block(g.outer, C, inner, [&](int64_t o, int64_t begin, int64_t length) {
    const float* xb = x + o * C * inner + begin;
    float* yb = y + o * C * inner + begin;
    float m[kBlock], s[kBlock];
    block_max(xb, C, inner, length, m);
    // y_c = e^(x_c − m) first, then scaled by 1 / Σ_c y_c.
    for (int64_t i = 0; i < length; ++i) s[i] = 0.0f;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < length; ++i) {
        const float e = std::exp(xb[c * inner + i] - m[i]);
        yb[c * inner + i] = e;
        s[i] += e;
      }
    for (int64_t i = 0; i < length; ++i) s[i] = 1.0f / s[i];
    for (int64_t c = 0; c < C; ++c)
#pragma omp simd
      for (int64_t i = 0; i < length; ++i) yb[c * inner + i] *= s[i];
  });
}

void log_softmax_forward(const float* x, float* y, const SoftmaxGeometry& g) {
  const int64_t C = g.channels, inner = g.inner;
  for_each_block(g.outer, C, inner, [&](int64_t o, int64_t begin, int64_t length) {
    const float* xb = x + o * C * inner + begin;
    float* yb = y + o * C * inner + begin;
    float m[kBlock], s[kBlock];
    block_max_and_exp_sum(xb, C, inner, length, m, s);
    for (int64_t i = 0; i < length; ++i) m[i] += std::log(s[i]);  // now log Σ_k e^(x_k)
    for (int64_t c = 0; c < C; ++c)
#pragma omp simd
      for (int64_t i = 0; i < length; ++i) yb[c * inner + i] = xb[c * inner + i] - m[i];
  });
}

// Compute the same as softmax_forward / log_softmax_forward, one position at a time.
void softmax_forward_reference(const float* x, float* y, const SoftmaxGeometry& g) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < g.inner; ++i) {
      const int64_t at = o * g.channels * g.inner + i;
      double max, log_sum;
      position_log_sum_exp(x + at, g.channels, g.inner, max, log_sum);
      for (int64_t c = 0; c < g.channels; ++c)
        y[at + c * g.inner] = static_cast<float>(std::exp(x[at + c * g.inner] - max - log_sum));
    }
}

void log_softmax_forward_reference(const float* x, float* y, const SoftmaxGeometry& g) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < g.inner; ++i) {
      const int64_t at = o * g.channels * g.inner + i;
      double max, log_sum;
      position_log_sum_exp(x + at, g.channels, g.inner, max, log_sum);
      for (int64_t c = 0; c < g.channels; ++c)
        y[at + c * g.inner] = static_cast<float>(x[at + c * g.inner] - max - log_sum);
    }
}

// ---- softmax / log_softmax backward ----

void softmax_backward(const float* y, const float* dy, float* dx, const SoftmaxGeometry& g) {
  const int64_t C = g.channels, inner = g.inner;
  for_each_block(g.outer, C, inner, [&](int64_t o, int64_t begin, int64_t length) {
    const int64_t offset = o * C * inner + begin;
    float dot[kBlock];  // Σ_c dy·y
    for (int64_t i = 0; i < length; ++i) dot[i] = 0.0f;
    for (int64_t c = 0; c < C; ++c)
#pragma omp simd
      for (int64_t i = 0; i < length; ++i) dot[i] += dy[offset + c * inner + i] * y[offset + c * inner + i];
    for (int64_t c = 0; c < C; ++c)
#pragma omp simd
      for (int64_t i = 0; i < length; ++i) {
        const int64_t at = offset + c * inner + i;
        dx[at] += y[at] * (dy[at] - dot[i]);
      }
  });
}

void log_softmax_backward(const float* y, const float* dy, float* dx, const SoftmaxGeometry& g) {
  const int64_t C = g.channels, inner = g.inner;
  for_each_block(g.outer, C, inner, [&](int64_t o, int64_t begin, int64_t length) {
    const int64_t offset = o * C * inner + begin;
    float sum[kBlock];  // Σ_c dy
    for (int64_t i = 0; i < length; ++i) sum[i] = 0.0f;
    for (int64_t c = 0; c < C; ++c)
#pragma omp simd
      for (int64_t i = 0; i < length; ++i) sum[i] += dy[offset + c * inner + i];
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < length; ++i) {
        const int64_t at = offset + c * inner + i;
        dx[at] += dy[at] - std::exp(y[at]) * sum[i];
      }
  });
}

// Compute the same as softmax_backward / log_softmax_backward, one position at a time.
void softmax_backward_reference(const float* y, const float* dy, float* dx, const SoftmaxGeometry& g) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < g.inner; ++i) {
      const int64_t at = o * g.channels * g.inner + i;
      double dot = 0.0;
      for (int64_t c = 0; c < g.channels; ++c)
        dot += static_cast<double>(dy[at + c * g.inner]) * y[at + c * g.inner];
      for (int64_t c = 0; c < g.channels; ++c)
        dx[at + c * g.inner] += static_cast<float>(y[at + c * g.inner] * (dy[at + c * g.inner] - dot));
    }
}

void log_softmax_backward_reference(const float* y, const float* dy, float* dx, const SoftmaxGeometry& g) {
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < g.inner; ++i) {
      const int64_t at = o * g.channels * g.inner + i;
      double sum = 0.0;
      for (int64_t c = 0; c < g.channels; ++c) sum += dy[at + c * g.inner];
      for (int64_t c = 0; c < g.channels; ++c)
        dx[at + c * g.inner] += static_cast<float>(dy[at + c * g.inner] -
                                                   std::exp(static_cast<double>(y[at + c * g.inner])) * sum);
    }
}

// ---- cross-entropy ----

CrossEntropySums cross_entropy_forward(const float* logits, const int32_t* target, const float* class_weight,
                                       const CrossEntropyGeometry& g) {
  const int64_t C = g.classes, inner = g.inner;
  const int64_t blocks_per_image = (inner + kBlock - 1) / kBlock;
  // One partial sum per block, added in block order afterwards: the total does not depend on
  // how the blocks were shared among threads.
  std::vector<CrossEntropySums> partial(g.batch * blocks_per_image);
  for_each_block(g.batch, C, inner, [&](int64_t n, int64_t begin, int64_t length) {
    const float* zb = logits + n * C * inner + begin;
    const int32_t* tb = target + n * inner + begin;
    float m[kBlock], s[kBlock];
    block_max_and_exp_sum(zb, C, inner, length, m, s);
    CrossEntropySums sums;
    for (int64_t i = 0; i < length; ++i) {
      const int32_t t = tb[i];
      if (t == g.ignore_index) continue;
      const double w = class_weight ? class_weight[t] : 1.0;
      sums.loss += w * (m[i] + std::log(static_cast<double>(s[i])) - zb[t * inner + i]);
      sums.weight += w;
    }
    partial[n * blocks_per_image + begin / kBlock] = sums;
  });
  CrossEntropySums total;
  for (const CrossEntropySums& p : partial) {
    total.loss += p.loss;
    total.weight += p.weight;
  }
  return total;
}

// Computes the same as cross_entropy_forward, one pixel at a time.
CrossEntropySums cross_entropy_forward_reference(const float* logits, const int32_t* target,
                                                 const float* class_weight, const CrossEntropyGeometry& g) {
  CrossEntropySums total;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t i = 0; i < g.inner; ++i) {
      const int32_t t = target[n * g.inner + i];
      if (t == g.ignore_index) continue;
      const float* z = logits + n * g.classes * g.inner + i;
      double max, log_sum;
      position_log_sum_exp(z, g.classes, g.inner, max, log_sum);
      const double w = class_weight ? class_weight[t] : 1.0;
      total.loss += w * (max + log_sum - z[t * g.inner]);
      total.weight += w;
    }
  return total;
}

void cross_entropy_backward(const float* logits, const int32_t* target, const float* class_weight,
                            float scale, float* dlogits, const CrossEntropyGeometry& g) {
  const int64_t C = g.classes, inner = g.inner;
  for_each_block(g.batch, C, inner, [&](int64_t n, int64_t begin, int64_t length) {
    const int64_t offset = n * C * inner + begin;
    const int32_t* tb = target + n * inner + begin;
    float m[kBlock], s[kBlock], k[kBlock];  // k: scale · w[t], 0 at ignored pixels
    block_max_and_exp_sum(logits + offset, C, inner, length, m, s);
    for (int64_t i = 0; i < length; ++i) {
      s[i] = 1.0f / s[i];
      const int32_t t = tb[i];
      k[i] = t == g.ignore_index ? 0.0f : scale * (class_weight ? class_weight[t] : 1.0f);
    }
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < length; ++i) {
        const int64_t at = offset + c * inner + i;
        const float probability = std::exp(logits[at] - m[i]) * s[i];
        dlogits[at] += k[i] * (probability - (tb[i] == c ? 1.0f : 0.0f));
      }
  });
}

// Computes the same as cross_entropy_backward, one pixel at a time.
void cross_entropy_backward_reference(const float* logits, const int32_t* target, const float* class_weight,
                                      float scale, float* dlogits, const CrossEntropyGeometry& g) {
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t i = 0; i < g.inner; ++i) {
      const int32_t t = target[n * g.inner + i];
      if (t == g.ignore_index) continue;
      const int64_t at = n * g.classes * g.inner + i;
      double max, log_sum;
      position_log_sum_exp(logits + at, g.classes, g.inner, max, log_sum);
      const double k = static_cast<double>(scale) * (class_weight ? class_weight[t] : 1.0);
      for (int64_t c = 0; c < g.classes; ++c) {
        const double probability = std::exp(logits[at + c * g.inner] - max - log_sum);
        dlogits[at + c * g.inner] += static_cast<float>(k * (probability - (c == t ? 1.0 : 0.0)));
      }
    }
}

}  // namespace pg::kernels
