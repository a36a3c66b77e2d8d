// The VOC-format folder: PASCAL VOC 2012's layout, which most segmentation datasets are shipped
// in or converted to. The reader loads images and label PNGs through stb and validates every
// label; the writer puts any Dataset (the toy generator's, say) on disk in the same layout.
//
//   root/JPEGImages/<name>.jpg (or .png)          RGB images
//   root/SegmentationClass/<name>.png             labels: 1-channel index PNG, or VOC palette PNG
//   root/ImageSets/Segmentation/{train,val}.txt   one <name> a line
//   root/class_names.txt (optional)               one class name a line, background first;
//                                                 without it, VOC's 21 classes
//
// Labels on disk: a 1-channel (or gray + alpha) PNG holds the indices themselves; an RGB (or RGBA)
// PNG is a VOC palette PNG (stb expands the palette to colours), mapped back to indices through
// VOC's colour map, alpha ignored. An RGB label is always read as palette colours, even when it
// is gray (R = G = B): index 0 is black, but (1, 1, 1) is no colour of the map and is an error —
// save index labels as 1-channel PNGs.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image_io.h"

namespace pg {

// VOC's 21 class names, "background", "aeroplane", … "tvmonitor".
const std::vector<std::string>& voc_class_names();
// VOC's colour map (the bit-interleaving palette of its devkit): colour of index 0 … 255.
// Index 255 (void) is (224, 224, 192).
std::array<uint8_t, 3> voc_palette_colour(int index);
// The index whose palette colour this is, or −1 when no index has it.
int voc_palette_index(std::array<uint8_t, 3> colour);

// From a value v on disk to the label map: v = ignore_index or v = 255 (VOC's void) → 255; then,
// with reduce_zero_label, 0 → 255 and v → v − 1; what is left must be < num_classes.
// class_names.txt names the classes of the label map, after these steps.
struct VocOptions {
  std::string split = "train";  // ImageSets/Segmentation/<split>.txt
  // Classes (label values 0 … n−1), at most 255. 0: the line count of root/class_names.txt if
  // present, else VOC's 21. Non-zero with a class_names.txt of another count is an error.
  int num_classes = 0;
  // Label value in [0, 255] that means "no label" on disk; it becomes 255 in the label maps.
  int ignore_index = 255;
  // ADE20K style (as mmsegmentation's): label 0 ("other") becomes 255 and every other value v
  // becomes v − 1; 255 stays 255.
  bool reduce_zero_label = false;
};

// Reads lazily: the constructor checks the folder layout and the split list (not empty, every
// listed image and label file exists, exactly one of <name>.jpg and <name>.png), get() decodes one
// sample and validates it: label values ≥ num_classes other than the ignore value, a palette
// colour not in VOC's map, image/label size mismatch, unreadable or truncated files → pg::Error
// naming the file (and the pixel, for bad values). Without class_names.txt and with num_classes
// other than 21, the classes are named "class_0", "class_1", ….
class VocDataset : public Dataset {
 public:
  VocDataset(std::string root, VocOptions options);
  int64_t size() const override;
  Sample get(int64_t index) const override;
  int num_classes() const override;
  std::vector<std::string> class_names() const override;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  VocOptions options_;
  std::vector<std::string> names_;        // the split's sample names
  std::vector<std::string> image_paths_;  // resolved .jpg or .png per name
  std::vector<std::string> label_paths_;
  std::vector<std::string> class_names_;
};

struct VocWriteOptions {
  ImageFormat image_format = ImageFormat::png;  // JPEGImages/<name>.png, or .jpg (quality 95)
  bool palette_labels = false;  // labels as VOC palette colours (RGB PNG) instead of 1-channel indices
};

// Writes `splits` (split name → dataset, e.g. {"train", toy_train}, {"val", toy_val}) under root in
// the layout above, with class_names.txt from the first dataset. Creates the folders and writes
// straight to the final names; errors name the file that could not be written. Errors before
// anything is written: no split, an empty split, splits with different class names. Errors
// while writing: a sample name that is empty, holds '/' or whitespace, or repeats (each name is a
// file); an image and label of different sizes; a label value outside [0, 255]; an image of
// the other format already there under the same name (the reader could not tell which is meant).
void write_voc_dataset(const std::string& root,
                       const std::vector<std::pair<std::string, const Dataset*>>& splits,
                       const VocWriteOptions& options = {});

}  // namespace pg
