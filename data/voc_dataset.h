// The VOC-format folder: PASCAL VOC 2012's layout, which most segmentation datasets are shipped
// in or converted to. The reader loads images and label PNGs through stb and validates every
// label; the writer puts any Dataset (the toy generator's, say) on disk in the same layout.
//
//   root/JPEGImages/<name>.jpg (or .png)          RGB images
//   root/SegmentationClass/<name>.png             labels: 1-channel index PNG, or VOC palette PNG
//   root/ImageSets/Segmentation/{train,val}.txt   one <name> a line
//   root/class_names.txt (optional)               one class name a line, background first;
//                                                 without it, VOC's 21 classes
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

struct VocOptions {
  std::string split = "train";  // ImageSets/Segmentation/<split>.txt
  // Classes (label values 0 … n−1). 0: from root/class_names.txt if present, else VOC's 21.
  int num_classes = 0;
  // Label value that means "no label" on disk; it becomes 255 in the label maps.
  int ignore_index = 255;
  // ADE20K style: label 0 ("other") becomes 255 and every other value v becomes v − 1.
  bool reduce_zero_label = false;
};

// Reads lazily: the constructor checks the folder layout and the split list (every listed image
// and label file exists), get() decodes one sample and validates it: label values ≥ num_classes
// other than the ignore value, a palette colour not in VOC's map, image/label size mismatch,
// unreadable or truncated files → pg::Error naming the file (and the pixel, for bad values).
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
  std::vector<std::string> class_names_;
};

struct VocWriteOptions {
  ImageFormat image_format = ImageFormat::png;  // JPEGImages/<name>.png, or .jpg (quality 95)
  bool palette_labels = false;  // labels as VOC palette colours (RGB PNG) instead of 1-channel indices
};

// Writes `splits` (split name → dataset, e.g. {"train", toy_train}, {"val", toy_val}) under root in
// the layout above, with class_names.txt from the first dataset. Creates the folders; errors name
// the file that could not be written.
void write_voc_dataset(const std::string& root,
                       const std::vector<std::pair<std::string, const Dataset*>>& splits,
                       const VocWriteOptions& options = {});

}  // namespace pg
