// VOC's class names and colour map. The devkit's map gives index i the colour whose bits are
// i's bits dealt out in turn to R, G, B, from the most significant bit down: bit 0 of i is the
// top bit of R, bit 1 the top bit of G, bit 2 the top bit of B, bit 3 the next bit of R, and so
// on. Different indices get different colours, so a palette PNG maps back to indices exactly.
#include <unordered_map>

#include "core/error.h"
#include "data/voc_dataset.h"

namespace pg {

namespace {

uint32_t pack(std::array<uint8_t, 3> colour) {
  return (static_cast<uint32_t>(colour[0]) << 16) | (static_cast<uint32_t>(colour[1]) << 8) | colour[2];
}

}  // namespace

const std::vector<std::string>& voc_class_names() {
  static const std::vector<std::string> names = {
      "background", "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",
      "car",        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",
      "motorbike",  "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};
  return names;
}

std::array<uint8_t, 3> voc_palette_colour(int index) {
  check(index >= 0 && index <= 255, "voc_palette_colour: index must be in [0, 255], got ", index);
  std::array<uint8_t, 3> colour{0, 0, 0};
  int bits = index;
  for (int shift = 7; shift >= 0; --shift) {  // three bits of the index per bit plane of the colour
    for (int k = 0; k < 3; ++k) colour[k] |= static_cast<uint8_t>(((bits >> k) & 1) << shift);
    bits >>= 3;
  }
  return colour;
}

int voc_palette_index(std::array<uint8_t, 3> colour) {
  static const std::unordered_map<uint32_t, int> index_of_colour = [] {
    std::unordered_map<uint32_t, int> map;
    for (int i = 0; i < 256; ++i) map.emplace(pack(voc_palette_colour(i)), i);
    return map;
  }();
  const auto found = index_of_colour.find(pack(colour));
  return found == index_of_colour.end() ? -1 : found->second;
}

}  // namespace pg
