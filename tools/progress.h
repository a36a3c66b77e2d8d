// Progress of a training run on standard output: on a terminal one bar redrawn in place (step,
// loss, last mIoU, images/s, ETA); elsewhere (a log file, a pipe) plain lines at intervals.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace pg {

class Progress {
 public:
  // first_step: where this process starts (> 0 after a resume); total: the run's last step.
  Progress(int64_t first_step, int64_t total, int batch, bool terminal);
  void step(int64_t step, float loss);  // after step `step` (1-based) trained with this loss
  void validated(int64_t step, double miou, double pixel_accuracy);
  void message(const std::string& line);  // a line of its own (the bar is redrawn after it)
  void exclude_time(double seconds) { paused_seconds_ += seconds; }  // validation, checkpoints
  void finish();

 private:
  void draw(int64_t step);
  double images_per_second(int64_t step) const;

  int64_t first_step_, total_;
  int batch_;
  bool terminal_;
  int64_t plain_every_;
  double smoothed_loss_ = 0;
  double last_miou_ = -1;
  std::chrono::steady_clock::time_point start_;
  double paused_seconds_ = 0;  // validation time, left out of images/s and ETA
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace pg
