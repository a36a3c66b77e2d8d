// The metrics table `pixelgrad train` ends with and `pixelgrad eval` prints: per class IoU and
// accuracy, then pixel accuracy, mean class accuracy, mIoU and frequency-weighted IoU.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "core/metrics.h"

namespace pg {

std::string metrics_table(const ConfusionMatrix& confusion, const std::vector<std::string>& class_names);

}  // namespace pg
