// CSV and SVG output of the training log (tools/training_log.h).
#include "tools/training_log.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace pg {

namespace {

constexpr const char* kHeader = "step,loss,lr,val_miou,val_pixel_accuracy,seconds";

void write_atomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary);
    out << text;
    check(out.good(), "cannot write ", temp);
  }
  check(std::rename(temp.c_str(), path.c_str()) == 0, "cannot rename ", temp, " to ", path);
}

// "nice" tick values covering [low, high]: steps of 1, 2 or 5 × 10^k, about `count` of them.
std::vector<double> ticks(double low, double high, int count) {
  const double raw = (high - low) / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / magnitude < 2   ? 2 * magnitude
                      : raw / magnitude < 5 ? 5 * magnitude
                                            : 10 * magnitude;
  std::vector<double> out;
  for (double t = std::ceil(low / step) * step; t <= high + 1e-9 * step; t += step) out.push_back(t);
  return out;
}

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// One panel: a frame at (x0, y0) of size w × h, axes from the data ranges, the series as polylines.
struct Series {
  std::vector<std::pair<double, double>> points;
  const char* colour;
  double width;
};

void panel(std::ostringstream& svg, double x0, double y0, double w, double h, const std::string& label,
           double x_max, double y_min, double y_max, const std::vector<Series>& series) {
  if (y_max <= y_min) y_max = y_min + 1;
  auto px = [&](double x) { return x0 + w * x / x_max; };
  auto py = [&](double y) { return y0 + h * (1 - (y - y_min) / (y_max - y_min)); };
  svg << "<rect x='" << x0 << "' y='" << y0 << "' width='" << w << "' height='" << h
      << "' fill='white' stroke='#888'/>\n";
  for (double t : ticks(y_min, y_max, 5)) {
    svg << "<line x1='" << x0 << "' x2='" << x0 + w << "' y1='" << py(t) << "' y2='" << py(t)
        << "' stroke='#eee'/>\n";
    svg << "<text x='" << x0 - 6 << "' y='" << py(t) + 4 << "' text-anchor='end'>" << number(t)
        << "</text>\n";
  }
  for (double t : ticks(0, x_max, 6))
    svg << "<text x='" << px(t) << "' y='" << y0 + h + 16 << "' text-anchor='middle'>" << number(t)
        << "</text>\n";
  svg << "<text x='" << x0 << "' y='" << y0 - 8 << "' font-weight='bold'>" << label << "</text>\n";
  for (const Series& s : series) {
    if (s.points.empty()) continue;
    svg << "<polyline fill='none' stroke='" << s.colour << "' stroke-width='" << s.width << "' points='";
    for (const auto& [x, y] : s.points) svg << px(x) << "," << py(std::clamp(y, y_min, y_max)) << " ";
    svg << "'/>\n";
    if (s.points.size() < 50)
      for (const auto& [x, y] : s.points)
        svg << "<circle cx='" << px(x) << "' cy='" << py(y) << "' r='3' fill='" << s.colour << "'/>\n";
  }
}

}  // namespace

TrainingLog TrainingLog::read_csv(const std::string& path, int64_t last_step) {
  TrainingLog log;
  std::ifstream in(path);
  if (!in) return log;
  std::string line;
  std::getline(in, line);
  check(line == kHeader, path, ": not a pixelgrad training log (first line '", line, "')");
  while (std::getline(in, line)) {
    LogRow r;
    char comma[5];
    std::istringstream fields(line);
    fields >> r.step >> comma[0] >> r.loss >> comma[1] >> r.lr >> comma[2] >> r.val_miou >> comma[3] >>
        r.val_pixel_accuracy >> comma[4] >> r.seconds;
    check(!fields.fail(), path, ": cannot read the line '", line, "'");
    if (r.step <= last_step) log.add(r);
  }
  return log;
}

void TrainingLog::write_csv(const std::string& path) const {
  std::ostringstream out;
  out.precision(9);
  out << kHeader << "\n";
  for (const LogRow& r : rows_)
    out << r.step << "," << r.loss << "," << r.lr << "," << r.val_miou << "," << r.val_pixel_accuracy << ","
        << r.seconds << "\n";
  write_atomically(path, out.str());
}

void TrainingLog::write_svg(const std::string& path, const std::string& title) const {
  Series raw{{}, "#9ecae1", 1}, smooth{{}, "#08519c", 2}, miou{{}, "#d94801", 2};
  double ema = 0, loss_max = 0;
  for (size_t i = 0; i < rows_.size(); ++i) {
    const LogRow& r = rows_[i];
    ema = i == 0 ? r.loss : 0.95 * ema + 0.05 * r.loss;
    raw.points.emplace_back(r.step, r.loss);
    smooth.points.emplace_back(r.step, ema);
    loss_max = std::max(loss_max, r.loss);
    if (r.val_miou >= 0) miou.points.emplace_back(r.step, r.val_miou);
  }
  const double x_max = rows_.empty() ? 1 : std::max<double>(1, rows_.back().step);
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='720' height='560' font-family='sans-serif' "
         "font-size='12'>\n<rect width='720' height='560' fill='#fafafa'/>\n";
  svg << "<text x='360' y='24' text-anchor='middle' font-size='15'>" << title << "</text>\n";
  panel(svg, 70, 60, 620, 190, "training loss (light: per step, dark: smoothed)", x_max, 0,
        std::min(loss_max, 2 * std::max(1e-6, smooth.points.empty() ? 1.0 : smooth.points.front().second)),
        {raw, smooth});
  panel(svg, 70, 320, 620, 190, "validation mIoU", x_max, 0, 1, {miou});
  svg << "<text x='380' y='550' text-anchor='middle'>step</text>\n</svg>\n";
  write_atomically(path, svg.str());
}

}  // namespace pg
