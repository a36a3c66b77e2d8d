// Formats a confusion matrix's metrics as a plain-text table (tools/metrics_table.h).
#include "tools/metrics_table.h"

#include <cmath>

#include "core/error.h"

namespace pg {

namespace {
std::string percent(double v) {
  if (std::isnan(v)) return "     -";
  char text[16];
  std::snprintf(text, sizeof text, "%6.2f", 100 * v);
  return text;
}
}  // namespace

std::string metrics_table(const ConfusionMatrix& confusion, const std::vector<std::string>& class_names) {
  const std::vector<double> iou = confusion.iou(), accuracy = confusion.class_accuracy();
  std::string out = "  class            IoU %   acc %    pixels\n";
  for (int c = 0; c < confusion.num_classes(); ++c) {
    int64_t pixels = 0;
    for (int k = 0; k < confusion.num_classes(); ++k) pixels += confusion.at(c, k);
    const std::string name = c < static_cast<int>(class_names.size()) ? class_names[c] : str("class ", c);
    char line[128];
    std::snprintf(line, sizeof line, "  %-15s %s  %s  %8lld\n", name.c_str(), percent(iou[c]).c_str(),
                  percent(accuracy[c]).c_str(), static_cast<long long>(pixels));
    out += line;
  }
  char summary[256];
  std::snprintf(
      summary, sizeof summary,
      "  pixel accuracy %s %%   mean class accuracy %s %%\n  mIoU %s %%   frequency-weighted IoU %s %%\n",
      percent(confusion.pixel_accuracy()).c_str(), percent(confusion.mean_class_accuracy()).c_str(),
      percent(confusion.mean_iou()).c_str(), percent(confusion.frequency_weighted_iou()).c_str());
  return out + summary;
}

}  // namespace pg
