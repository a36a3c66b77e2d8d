// Training the context module on cached front-end outputs, as Yu & Koltun did (§5, and the
// reference's test.py --bin / train.py context): the front-end runs once over the dataset, in
// eval mode, and its class scores (1/8 of the image) are saved; the context module then trains on
// them alone (at 512 × 512 and 21 classes it is 0.12 G of the whole net's 592 G multiply-adds,
// `pixelgrad list`). The gradients are those of the whole net with the front-end frozen
// (tests/test_dilation.cpp checks it).
//
//   FrontendCache cache = cache_frontend_outputs(net->frontend(), batches, [&](int64_t b) {
//     return make_batch(dataset, b * 8, std::min<int64_t>(b * 8 + 8, dataset.size())); });
//   save_frontend_cache("cache.safetensors", cache);
//   Sgd sgd(net->context().parameters(), SgdParams{.lr = 1e-3f, .momentum = 0.9f});  // the reference's
//   train_context_on_cache(*net, cache, sgd, 1000, 16);
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/optimizer.h"
#include "nets/dilation_net.h"

namespace pg {

struct FrontendCache {
  Tensor scores;    // (N, C, H/8, W/8): the front-end's output for every image
  LabelMap labels;  // (N, H, W): the images' labels, at full resolution
  int64_t size() const { return scores.defined() ? scores.size(0) : 0; }
};

// Runs the front-end (eval mode, no gradient) over batch(0) … batch(batch_count − 1), which must
// share one image size, and keeps the scores with the labels. The front-end's mode is restored.
FrontendCache cache_frontend_outputs(DilationFrontend& frontend, int64_t batch_count,
                                     const std::function<Batch(int64_t)>& batch);

// safetensors: "scores" (F32) and "labels" (I32).
void save_frontend_cache(const std::string& path, const FrontendCache& cache);
FrontendCache load_frontend_cache(const std::string& path);

// Items [first, first + count) of the cache, wrapping around at its end.
FrontendCache cache_slice(const FrontendCache& cache, int64_t first, int64_t count);

// `steps` optimizer steps of net.context_loss on the cache, batch_size items a step in the cache's
// order (step s takes items s·batch_size …, wrapping). The optimizer should hold the context
// module's parameters. Returns every step's loss.
std::vector<float> train_context_on_cache(DilationNet& net, const FrontendCache& cache, Optimizer& optimizer,
                                          int steps, int batch_size);

}  // namespace pg
