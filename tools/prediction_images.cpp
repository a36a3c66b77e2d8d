// Colourised labels, overlays and the prediction grid (tools/prediction_images.h).
#include "tools/prediction_images.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/autograd.h"
#include "core/error.h"
#include "core/metrics.h"
#include "data/augment.h"
#include "data/loader.h"

namespace pg {

std::array<uint8_t, 3> label_colour(int index) {
  // Bit k of each of R, G, B comes from bits 3k, 3k+1, 3k+2 of the index, placed from the top.
  std::array<uint8_t, 3> rgb{0, 0, 0};
  int c = index;
  for (int bit = 7; bit >= 0; --bit, c >>= 3)
    for (int k = 0; k < 3; ++k) rgb[k] |= static_cast<uint8_t>(((c >> k) & 1) << bit);
  return rgb;
}

Image8 colourise(const LabelMap& label) {
  check(label.dim() == 2, "colourise: expected a label map (H, W), got ", shape_str(label.shape()));
  Image8 out{static_cast<int>(label.size(1)), static_cast<int>(label.size(0)), 3, {}};
  out.pixels.resize(static_cast<size_t>(label.numel()) * 3);
  for (int64_t i = 0; i < label.numel(); ++i) {
    const auto rgb = label_colour(label.data()[i]);
    std::copy(rgb.begin(), rgb.end(), out.pixels.begin() + i * 3);
  }
  return out;
}

Image8 overlay(const Tensor& image, const LabelMap& label, float alpha) {
  check(image.dim() == 3 && label.dim() == 2 && image.size(1) == label.size(0) &&
            image.size(2) == label.size(1),
        "overlay: expected image (3, H, W) and label (H, W), got ", shape_str(image.shape()), " and ",
        shape_str(label.shape()));
  Image8 out = tensor_to_image(image);
  for (int64_t i = 0; i < label.numel(); ++i) {
    if (label.data()[i] == 0) continue;
    const auto rgb = label_colour(label.data()[i]);
    for (int k = 0; k < 3; ++k) {
      uint8_t& v = out.pixels[i * 3 + k];
      v = static_cast<uint8_t>(std::lround((1 - alpha) * v + alpha * rgb[k]));
    }
  }
  return out;
}

LabelMap predict_labels(SegmentationNet& net, const Tensor& image, int pad_multiple) {
  check(image.dim() == 3 && image.size(0) == 3, "predict: expected an RGB image (3, H, W), got ",
        shape_str(image.shape()));
  const int h = static_cast<int>(image.size(1)), w = static_cast<int>(image.size(2));
  const int m = std::max(1, pad_multiple);
  Sample sample;
  sample.image = image;
  sample.label = LabelMap({h, w}, 255);
  sample = crop_sample(sample, 0, 0, (h + m - 1) / m * m, (w + m - 1) / m * m);
  const int ph = static_cast<int>(sample.image.size(1)), pw = static_cast<int>(sample.image.size(2));
  NoGradGuard no_grad;
  net.eval();
  const Tensor input = normalise(sample.image, Normalisation{}).reshape({1, 3, ph, pw});
  const LabelMap padded = argmax_labels(net.forward(input));
  check(padded.size(1) == ph && padded.size(2) == pw, "predict: the net's output ", shape_str(padded.shape()),
        " does not have its input's size ", ph, "x", pw);
  LabelMap out({h, w});
  for (int y = 0; y < h; ++y) std::copy_n(padded.data() + y * pw, w, out.data() + y * w);
  return out;
}

namespace {

// Copies `tile` into `canvas` at (top, left), each pixel repeated zoom × zoom.
void paste(Image8& canvas, const Image8& tile, int top, int left, int zoom) {
  for (int y = 0; y < tile.height * zoom; ++y)
    for (int x = 0; x < tile.width * zoom; ++x)
      for (int k = 0; k < 3; ++k)
        canvas.pixels[((static_cast<size_t>(top + y)) * canvas.width + left + x) * 3 + k] =
            tile.at(y / zoom, x / zoom, tile.channels == 1 ? 0 : k);
}

}  // namespace

std::string write_prediction_pictures(SegmentationNet& net, const Dataset& dataset, int64_t count,
                                      const std::string& out_dir, int pad_multiple, int zoom) {
  std::filesystem::create_directories(out_dir);
  const int64_t n = std::min(count, dataset.size());
  std::vector<std::array<Image8, 4>> rows;
  for (int64_t i = 0; i < n; ++i) {
    const Sample s = dataset.get(i);
    const LabelMap predicted = predict_labels(net, s.image, pad_multiple);
    std::array<Image8, 4> row = {tensor_to_image(s.image), colourise(s.label), colourise(predicted),
                                 overlay(s.image, predicted)};
    write_image(out_dir + "/" + s.name + "_pred.png", row[2], ImageFormat::png);
    write_image(out_dir + "/" + s.name + "_overlay.png", row[3], ImageFormat::png);
    rows.push_back(std::move(row));
  }
  check(!rows.empty(), "write_prediction_pictures: no samples");
  // The grid: every row as wide as the widest image, 4 px gaps.
  int cell_w = 0, cell_h = 0;
  for (const auto& row : rows)
    cell_w = std::max(cell_w, row[0].width), cell_h = std::max(cell_h, row[0].height);
  const int gap = 4;
  Image8 grid{
      4 * cell_w * zoom + 5 * gap, static_cast<int>(rows.size()) * (cell_h * zoom + gap) + gap, 3, {}};
  grid.pixels.assign(static_cast<size_t>(grid.width) * grid.height * 3, 255);
  for (size_t r = 0; r < rows.size(); ++r)
    for (int c = 0; c < 4; ++c)
      paste(grid, rows[r][c], gap + static_cast<int>(r) * (cell_h * zoom + gap),
            gap + c * (cell_w * zoom + gap), zoom);
  const std::string grid_path = out_dir + "/grid.png";
  write_image(grid_path, grid, ImageFormat::png);
  return grid_path;
}

}  // namespace pg
