// Image files through stb: the file is read (or written) by us, so that "cannot open" and
// "cannot decode" are told apart, and the pixels are decoded (or encoded) in memory by stb.
#include "data/image_io.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>

#include "core/error.h"

namespace pg {

namespace {

void check_image(const Image8& image, const std::string& what) {
  check(image.width > 0 && image.height > 0, what, ": image size must be positive, got ", image.width, "x",
        image.height);
  check(image.channels >= 1 && image.channels <= 4, what, ": expected 1 to 4 channels, got ", image.channels);
  check(image.pixels.size() == static_cast<size_t>(image.width) * image.height * image.channels, what,
        ": expected ", static_cast<size_t>(image.width) * image.height * image.channels, " bytes for ",
        image.width, "x", image.height, "x", image.channels, ", got ", image.pixels.size());
}

// stb_image_write's callback: appends the encoded bytes to a std::vector.
void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

Image8 decode_image(const std::vector<uint8_t>& bytes, const std::string& what) {
  check(!bytes.empty(), what, ": the file is empty");
  check(bytes.size() <= static_cast<size_t>(INT32_MAX), what, ": file too large (", bytes.size(), " bytes)");
  int width = 0, height = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height, &channels, 0),
      stbi_image_free);
  if (!pixels) {
    const char* reason = stbi_failure_reason();
    throw Error(str(what, ": cannot decode the image (", reason ? reason : "unknown reason",
                    "): not an image, or truncated or corrupt"));
  }
  Image8 image{width, height, channels, {}};
  image.pixels.assign(pixels.get(), pixels.get() + static_cast<size_t>(width) * height * channels);
  return image;
}

Image8 read_image(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  check(file.good(), path, ": cannot open the file (missing or unreadable)");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  check(!file.bad(), path, ": read error");
  return decode_image(bytes, path);
}

std::vector<uint8_t> encode_image(const Image8& image, ImageFormat format, int jpeg_quality) {
  check_image(image, "encode_image");
  std::vector<uint8_t> bytes;
  int ok = 0;
  if (format == ImageFormat::png) {
    ok = stbi_write_png_to_func(append_bytes, &bytes, image.width, image.height, image.channels,
                                image.pixels.data(), image.width * image.channels);
  } else {
    check(jpeg_quality >= 1 && jpeg_quality <= 100, "encode_image: JPEG quality must be in 1…100, got ",
          jpeg_quality);
    ok = stbi_write_jpg_to_func(append_bytes, &bytes, image.width, image.height, image.channels,
                                image.pixels.data(), jpeg_quality);
  }
  check(ok != 0 && !bytes.empty(), "encode_image: stb could not encode the ", image.width, "x", image.height,
        "x", image.channels, " image");
  return bytes;
}

void write_image(const std::string& path, const Image8& image, ImageFormat format, int jpeg_quality) {
  const std::vector<uint8_t> bytes = encode_image(image, format, jpeg_quality);
  std::ofstream file(path, std::ios::binary);
  check(file.good(), path, ": cannot create the file");
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  file.close();
  check(file.good(), path, ": write error");
}

Tensor image_to_tensor(const Image8& image, const std::string& what) {
  check_image(image, what);
  // gray (+ alpha) copies channel 0 to all three; RGB (+ alpha) takes channels 0, 1, 2
  const int source[3] = {0, image.channels >= 3 ? 1 : 0, image.channels >= 3 ? 2 : 0};
  const int64_t plane = static_cast<int64_t>(image.height) * image.width;
  Tensor t = Tensor::empty({3, image.height, image.width});  // (3, H, W)
  for (int k = 0; k < 3; ++k)
    for (int64_t i = 0; i < plane; ++i)
      t.data()[k * plane + i] = image.pixels[i * image.channels + source[k]] * (1.0f / 255.0f);
  return t;
}

Image8 tensor_to_image(const Tensor& image) {
  check(image.defined() && image.dim() == 3 && image.size(0) == 3,
        "tensor_to_image: expected a (3, H, W) image, got ",
        image.defined() ? shape_str(image.shape()) : "undefined");
  const int height = static_cast<int>(image.size(1)), width = static_cast<int>(image.size(2));
  const int64_t plane = static_cast<int64_t>(height) * width;
  Image8 out{width, height, 3, std::vector<uint8_t>(static_cast<size_t>(plane) * 3)};
  for (int64_t i = 0; i < plane; ++i)
    for (int k = 0; k < 3; ++k) {
      const float v = std::isnan(image.data()[k * plane + i]) ? 0.0f : image.data()[k * plane + i];
      out.pixels[i * 3 + k] = static_cast<uint8_t>(std::lround(std::fmin(std::fmax(v, 0.0f), 1.0f) * 255.0f));
    }
  return out;
}

Image8 label_to_image(const LabelMap& label) {
  check(label.defined() && label.dim() == 2, "label_to_image: expected an (H, W) label map, got ",
        label.defined() ? shape_str(label.shape()) : "undefined");
  Image8 out{static_cast<int>(label.size(1)), static_cast<int>(label.size(0)), 1,
             std::vector<uint8_t>(static_cast<size_t>(label.numel()))};
  for (int64_t i = 0; i < label.numel(); ++i) {
    const int32_t v = label.data()[i];
    check(v >= 0 && v <= 255, "label_to_image: label values must be in [0, 255] to fit a PNG byte, got ", v,
          " at pixel (x=", i % label.size(1), ", y=", i / label.size(1), ")");
    out.pixels[i] = static_cast<uint8_t>(v);
  }
  return out;
}

}  // namespace pg
