// The refiners by name. Only "none" exists until the dense CRF's issue lands.
#include "nets/logits_refiner.h"

#include "core/error.h"

namespace pg {

std::shared_ptr<LogitsRefiner> make_logits_refiner(const std::string& name) {
  if (name.empty() || name == "none") return nullptr;
  if (name == "dense-crf") throw Error("dense CRF: not built yet (its own issue)");
  throw Error(str("unknown logits refiner '", name, "'; the refiners are: none, dense-crf (not built yet)"));
}

Tensor refine_logits(LogitsRefiner* refiner, const Tensor& images, const Tensor& logits) {
  if (refiner == nullptr) return logits;
  Tensor refined = refiner->refine(images, logits);
  check(refined.defined() && refined.shape() == logits.shape(), "refine_logits: the refiner returned ",
        refined.defined() ? shape_str(refined.shape()) : "an undefined tensor", ", expected the logits' ",
        shape_str(logits.shape()));
  return refined;
}

}  // namespace pg
