// The progress bar and plain progress lines (tools/progress.h).
#include "tools/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pg {

namespace {
std::string duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  return text;
}
}  // namespace

Progress::Progress(int64_t first_step, int64_t total, int batch, bool terminal)
    : first_step_(first_step),
      total_(total),
      batch_(batch),
      terminal_(terminal),
      plain_every_(std::max<int64_t>(1, (total - first_step) / 20)),
      start_(std::chrono::steady_clock::now()) {}

double Progress::images_per_second(int64_t step) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() - paused_seconds_;
  return elapsed > 0 ? static_cast<double>(step - first_step_) * batch_ / elapsed : 0;
}

void Progress::step(int64_t step, float loss) {
  smoothed_loss_ = step == first_step_ + 1 ? loss : 0.95 * smoothed_loss_ + 0.05 * loss;
  const auto now = std::chrono::steady_clock::now();
  if (terminal_) {
    if (step == total_ || now - last_draw_ > std::chrono::milliseconds(100)) draw(step), last_draw_ = now;
  } else if (step % plain_every_ == 0 || step == total_) {
    draw(step);
  }
}

void Progress::draw(int64_t step) {
  const double rate = images_per_second(step);
  const double eta = rate > 0 ? static_cast<double>(total_ - step) * batch_ / rate : 0;
  char miou[32] = "";
  if (last_miou_ >= 0) std::snprintf(miou, sizeof miou, "  mIoU %.3f", last_miou_);
  char stats[160];
  std::snprintf(stats, sizeof stats, "step %lld/%lld  loss %.4f%s  %.1f img/s  ETA %s",
                static_cast<long long>(step), static_cast<long long>(total_), smoothed_loss_, miou, rate,
                duration(eta).c_str());
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(kWidth * step / std::max<int64_t>(1, total_));
    std::string bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
    std::printf("\r\033[K%s %s", bar.c_str(), stats);
  } else {
    std::printf("%s\n", stats);
  }
  std::fflush(stdout);
}

void Progress::validated(int64_t step, double miou, double pixel_accuracy) {
  last_miou_ = miou;
  char line[128];
  std::snprintf(line, sizeof line, "step %lld/%lld  validation: mIoU %.4f  pixel accuracy %.4f",
                static_cast<long long>(step), static_cast<long long>(total_), miou, pixel_accuracy);
  message(line);
}

void Progress::message(const std::string& line) {
  if (terminal_)
    std::printf("\r\033[K%s\n", line.c_str());
  else
    std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void Progress::finish() {
  if (terminal_) std::printf("\n");
  std::fflush(stdout);
}

}  // namespace pg
