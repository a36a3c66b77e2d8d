// Image files through stb_image / stb_image_write: PNG and JPEG (and whatever else stb reads) to
// 8-bit pixel arrays and back, plus the conversions to pixelgrad's tensors and label maps. Every
// failure is a pg::Error naming the file and what was wrong with it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg {

// 8-bit pixels, interleaved: pixels[(y · width + x) · channels + k].
// channels: 1 gray (or label indices), 2 gray + alpha, 3 RGB, 4 RGBA.
struct Image8 {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;

  uint8_t at(int y, int x, int k) const {
    return pixels[(static_cast<size_t>(y) * width + x) * channels + k];
  }
};

enum class ImageFormat { png, jpg };

// The file's pixels with the channels it stores (a palette PNG comes back as RGB or RGBA, as stb
// expands it). Errors: cannot open, empty, not an image stb knows, truncated or corrupt.
Image8 read_image(const std::string& path);
// Decodes an image held in memory; `what` names it in errors (usually the file it came from).
Image8 decode_image(const std::vector<uint8_t>& bytes, const std::string& what);

// Encodes and writes; JPEG quality 1–100. Errors name the file (cannot write, bad image).
void write_image(const std::string& path, const Image8& image, ImageFormat format, int jpeg_quality = 95);
std::vector<uint8_t> encode_image(const Image8& image, ImageFormat format, int jpeg_quality = 95);

// Image8 (1 or 3 channels, alpha ignored) → (3, H, W) float in [0, 1]; gray is copied to R, G, B.
Tensor image_to_tensor(const Image8& image, const std::string& what);
// (3, H, W) float → RGB, each value clamped to [0, 1] and rounded to the nearest of 0 … 255.
Image8 tensor_to_image(const Tensor& image);
// (H, W) label map with values in [0, 255] → 1-channel image (an index PNG when written as PNG).
Image8 label_to_image(const LabelMap& label);

}  // namespace pg
