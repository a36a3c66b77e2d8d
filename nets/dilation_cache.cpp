// Cached front-end outputs and the context module's training on them (Yu & Koltun 2016, §5).
#include "nets/dilation_cache.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/safetensors.h"

namespace pg {

FrontendCache cache_frontend_outputs(DilationFrontend& frontend, int64_t batch_count,
                                     const std::function<Batch(int64_t)>& batch) {
  check(batch_count >= 1, "cache_frontend_outputs: batch_count must be ≥ 1, got ", batch_count);
  // Eval mode (no dropout) for the scope, the caller's mode back afterwards, on errors too.
  struct EvalScope {
    Module& module;
    bool was_training;
    ~EvalScope() { module.train(was_training); }
  } eval_scope{frontend, frontend.is_training()};
  frontend.eval();
  NoGradGuard no_grad;
  std::vector<Tensor> scores;
  std::vector<LabelMap> labels;
  for (int64_t b = 0; b < batch_count; ++b) {
    Batch next = batch(b);
    check(next.size() >= 1 && next.labels.defined() && next.labels.dim() == 3 &&
              next.labels.size(0) == next.size() && next.labels.size(1) == next.images.size(2) &&
              next.labels.size(2) == next.images.size(3),
          "cache_frontend_outputs: batch ", b, " needs images (N, 3, H, W) with labels (N, H, W)");
    if (!scores.empty())
      check(next.images.size(2) == scores[0].size(2) * 8 && next.images.size(3) == scores[0].size(3) * 8,
            "cache_frontend_outputs: batch ", b, " has ", next.images.size(2), "×", next.images.size(3),
            " images, the first had ", scores[0].size(2) * 8, "×", scores[0].size(3) * 8,
            "; a cache holds one size");
    scores.push_back(frontend.forward(next.images));
    labels.push_back(next.labels);
  }

  int64_t n = 0;
  for (const Tensor& s : scores) n += s.size(0);
  FrontendCache cache{.scores = Tensor::empty({n, scores[0].size(1), scores[0].size(2), scores[0].size(3)}),
                      .labels = LabelMap({n, labels[0].size(1), labels[0].size(2)})};
  float* score_out = cache.scores.data();
  int32_t* label_out = cache.labels.data();
  for (size_t b = 0; b < scores.size(); ++b) {
    score_out = std::copy(scores[b].data(), scores[b].data() + scores[b].numel(), score_out);
    label_out = std::copy(labels[b].data(), labels[b].data() + labels[b].numel(), label_out);
  }
  return cache;
}

void save_frontend_cache(const std::string& path, const FrontendCache& cache) {
  check(cache.size() >= 1, "save_frontend_cache: the cache is empty");
  save_safetensors(path, {{"scores", cache.scores}}, {{"generator", "pixelgrad cache_frontend_outputs"}},
                   {{"labels", cache.labels}});
}

FrontendCache load_frontend_cache(const std::string& path) {
  const SafetensorsContents file = load_safetensors(path);
  FrontendCache cache{.scores = file.tensor("scores"), .labels = file.int_tensor("labels")};
  check(cache.scores.dim() == 4 && cache.labels.dim() == 3 && cache.labels.size(0) == cache.scores.size(0) &&
            cache.labels.size(1) == cache.scores.size(2) * 8 &&
            cache.labels.size(2) == cache.scores.size(3) * 8,
        path, ": a front-end cache holds scores (N, C, h, w) and labels (N, 8h, 8w), got ",
        shape_str(cache.scores.shape()), " and ", shape_str(cache.labels.shape()));
  return cache;
}

FrontendCache cache_slice(const FrontendCache& cache, int64_t first, int64_t count) {
  check(cache.size() >= 1 && count >= 1 && first >= 0, "cache_slice: needs a non-empty cache, first ≥ 0 and ",
        "count ≥ 1, got a cache of ", cache.size(), ", first ", first, ", count ", count);
  const Shape& s = cache.scores.shape();
  const Shape& l = cache.labels.shape();
  const int64_t score_item = s[1] * s[2] * s[3], label_item = l[1] * l[2];
  FrontendCache slice{.scores = Tensor::empty({count, s[1], s[2], s[3]}),
                      .labels = LabelMap({count, l[1], l[2]})};
  for (int64_t i = 0; i < count; ++i) {
    const int64_t item = (first + i) % cache.size();
    std::copy_n(cache.scores.data() + item * score_item, score_item, slice.scores.data() + i * score_item);
    std::copy_n(cache.labels.data() + item * label_item, label_item, slice.labels.data() + i * label_item);
  }
  return slice;
}

std::vector<float> train_context_on_cache(DilationNet& net, const FrontendCache& cache, Optimizer& optimizer,
                                          int steps, int batch_size) {
  check(steps >= 0 && batch_size >= 1, "train_context_on_cache: steps must be ≥ 0 and batch_size ≥ 1, got ",
        steps, " and ", batch_size);
  net.train();
  std::vector<float> losses;
  for (int step = 0; step < steps; ++step) {
    const FrontendCache batch = cache_slice(cache, int64_t{step} * batch_size % cache.size(), batch_size);
    optimizer.zero_grad();
    Tensor loss = net.context_loss(batch.scores, batch.labels);
    losses.push_back(loss.item());
    loss.backward();
    optimizer.step();
  }
  return losses;
}

}  // namespace pg
