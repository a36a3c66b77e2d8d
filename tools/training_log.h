// The record of a training run: one row per step (loss, lr; validation metrics on the steps that
// were validated), written as a CSV file and drawn as an SVG plot of loss and mIoU — plots
// without a plotting library.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pg {

struct LogRow {
  int64_t step = 0;      // 1-based: the row of the step-th update
  double loss = 0;       // training loss of that step's batch
  double lr = 0;         // the lr it trained at
  double val_miou = -1;  // < 0: not validated at this step
  double val_pixel_accuracy = -1;
  double seconds = 0;  // wall time since the run (first segment) started
};

class TrainingLog {
 public:
  void add(const LogRow& row) { rows_.push_back(row); }
  const std::vector<LogRow>& rows() const { return rows_; }

  // Reads a CSV written by write_csv, keeping the rows up to `last_step` (a resumed run drops what
  // an interrupted run logged after its last checkpoint). A missing file gives an empty log.
  static TrainingLog read_csv(const std::string& path, int64_t last_step);
  void write_csv(const std::string& path) const;  // atomic: temporary file, then rename
  // Two panels over the steps: training loss (raw and smoothed) and validation mIoU.
  void write_svg(const std::string& path, const std::string& title) const;

 private:
  std::vector<LogRow> rows_;
};

}  // namespace pg
