// LogitsRefiner: a step between a net's logits and the argmax of predict/eval, where DeepLab v1/v2
// put their fully connected CRF (Krähenbühl & Koltun 2011: mean-field inference whose unaries are
// the net's scores and whose pairwise terms look at the image's colours and positions). The CRF is
// its own issue and is not built: asking for it is a pg::Error, and with no refiner nothing happens.
//
//   auto refiner = make_logits_refiner(options.refiner);   // "none" → nullptr
//   net->set_refiner(refiner);
//   Tensor scores = net->predict(images);                  // forward(), then refiner->refine
#pragma once
#include <memory>
#include <string>

#include "core/tensor.h"

namespace pg {

class LogitsRefiner {
 public:
  virtual ~LogitsRefiner() = default;
  // images: (N, 3, H, W), the net's input; logits: (N, C, H, W), the net's scores at the input's
  // resolution → refined scores (N, C, H, W) (the CRF: its marginals Q after T iterations).
  virtual Tensor refine(const Tensor& images, const Tensor& logits) = 0;
};

// "none" (or "") → no refiner (nullptr). "dense-crf" → pg::Error: not built yet. Anything else is
// a pg::Error listing the names.
std::shared_ptr<LogitsRefiner> make_logits_refiner(const std::string& name);

// refiner ? refiner->refine(images, logits) : logits — the step predict/eval call after forward().
Tensor refine_logits(LogitsRefiner* refiner, const Tensor& images, const Tensor& logits);

}  // namespace pg
