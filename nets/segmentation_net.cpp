// SegmentationNet's defaults: plain per-pixel cross-entropy and a single parameter group.
#include "nets/segmentation_net.h"

namespace pg {

Tensor SegmentationNet::training_loss(const Batch& batch, const CrossEntropyParams& loss) {
  return cross_entropy(forward(batch.images), batch.labels, loss);
}

std::vector<ParamGroup> SegmentationNet::parameter_groups() const {
  return {ParamGroup{.params = parameters()}};
}

}  // namespace pg
