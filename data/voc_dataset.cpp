// The VOC-format folder reader: the constructor reads the split list and class names and checks
// that every listed file is there; get() decodes one image and its label through stb, turns the
// label's pixels into class indices (directly, or through VOC's colour map) and validates them.
#include "data/voc_dataset.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace pg {

namespace fs = std::filesystem;

namespace {

// The lines of a text file, without a trailing '\r' (files written on Windows).
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream file(path);
  check(file.good(), path, ": cannot open the file (missing or unreadable)");
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  check(!file.bad(), path, ": read error");
  return lines;
}

std::string trimmed(const std::string& text) {
  const char* space = " \t";
  const size_t first = text.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// The split's sample names: one a line, blank lines skipped, no whitespace inside a name.
std::vector<std::string> read_split(const std::string& path) {
  check(fs::is_regular_file(path), path, ": the split list is missing (expected one sample name a line)");
  std::vector<std::string> names;
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string name = trimmed(lines[i]);
    if (name.empty()) continue;
    check(name.find_first_of(" \t") == std::string::npos, path, ":", i + 1,
          ": expected one sample name a line, got '", lines[i], "'");
    names.push_back(name);
  }
  check(!names.empty(), path, ": the split list is empty");
  return names;
}

// class_names.txt: one name a line, none blank.
std::vector<std::string> read_class_names(const std::string& path) {
  std::vector<std::string> names = read_lines(path);
  for (size_t i = 0; i < names.size(); ++i) {
    names[i] = trimmed(names[i]);
    check(!names[i].empty(), path, ":", i + 1, ": blank line (expected one class name a line)");
  }
  check(!names.empty() && names.size() <= 255, path, ": expected 1 to 255 class names, got ", names.size());
  return names;
}

// The label file's pixels as values on disk: the bytes of a 1-channel (or gray + alpha) PNG, or
// the palette indices of an RGB (or RGBA) one.
std::vector<int32_t> label_values(const Image8& image, const std::string& path) {
  std::vector<int32_t> values(static_cast<size_t>(image.width) * image.height);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      int32_t& value = values[static_cast<size_t>(y) * image.width + x];
      if (image.channels <= 2) {
        value = image.at(y, x, 0);
        continue;
      }
      const std::array<uint8_t, 3> colour = {image.at(y, x, 0), image.at(y, x, 1), image.at(y, x, 2)};
      value = voc_palette_index(colour);
      check(value >= 0, path, ": pixel (x=", x, ", y=", y, ") has colour (", int(colour[0]), ", ",
            int(colour[1]), ", ", int(colour[2]),
            "), which is not in the VOC colour map (an RGB label is read as a VOC palette PNG; "
            "save index labels as 1-channel PNGs)");
    }
  return values;
}

}  // namespace

VocDataset::VocDataset(std::string root, VocOptions options) : root_(std::move(root)), options_(options) {
  check(fs::is_directory(root_), "VocDataset: ", root_, ": no such folder");
  check(options_.num_classes >= 0 && options_.num_classes <= 255,
        "VocDataset: num_classes must be in [1, 255] (or 0: from class_names.txt), got ",
        options_.num_classes);
  check(options_.ignore_index >= 0 && options_.ignore_index <= 255,
        "VocDataset: ignore_index must be in [0, 255], got ", options_.ignore_index);
  check(!options_.split.empty() && options_.split.find('/') == std::string::npos,
        "VocDataset: the split must be a name such as 'train', got '", options_.split, "'");

  const fs::path base(root_);
  const std::string names_file = (base / "class_names.txt").string();
  if (fs::exists(names_file)) {
    class_names_ = read_class_names(names_file);
    check(options_.num_classes == 0 || options_.num_classes == static_cast<int>(class_names_.size()),
          names_file, ": lists ", class_names_.size(), " classes, but num_classes is ", options_.num_classes);
  } else if (options_.num_classes == 0 || options_.num_classes == 21) {
    class_names_ = voc_class_names();
  } else {
    for (int i = 0; i < options_.num_classes; ++i) class_names_.push_back(str("class_", i));
  }

  names_ = read_split((base / "ImageSets" / "Segmentation" / (options_.split + ".txt")).string());
  for (const std::string& name : names_) {
    const std::string jpg = (base / "JPEGImages" / (name + ".jpg")).string();
    const std::string png = (base / "JPEGImages" / (name + ".png")).string();
    const bool has_jpg = fs::exists(jpg), has_png = fs::exists(png);
    check(has_jpg || has_png, "VocDataset: the image of '", name, "' is missing: neither ", jpg, " nor ", png,
          " exists");
    check(!(has_jpg && has_png), "VocDataset: both ", jpg, " and ", png, " exist: which image '", name,
          "' means is ambiguous");
    const std::string label = (base / "SegmentationClass" / (name + ".png")).string();
    check(fs::exists(label), "VocDataset: the label of '", name, "' is missing: ", label, " does not exist");
    image_paths_.push_back(has_jpg ? jpg : png);
    label_paths_.push_back(label);
  }
}

int64_t VocDataset::size() const {
  return static_cast<int64_t>(names_.size());
}

int VocDataset::num_classes() const {
  return static_cast<int>(class_names_.size());
}

std::vector<std::string> VocDataset::class_names() const {
  return class_names_;
}

Sample VocDataset::get(int64_t index) const {
  check(index >= 0 && index < size(), "VocDataset: index ", index, " out of range [0, ", size(), ")");
  const std::string& image_path = image_paths_[index];
  const std::string& label_path = label_paths_[index];
  const Image8 image = read_image(image_path);
  const Image8 label_image = read_image(label_path);
  check(image.width == label_image.width && image.height == label_image.height, "VocDataset: ", image_path,
        " is ", image.width, "x", image.height, " but its label ", label_path, " is ", label_image.width, "x",
        label_image.height, " (width x height)");

  Sample sample;
  sample.image = image_to_tensor(image, image_path);  // (3, H, W)
  sample.label = LabelMap({image.height, image.width});
  const std::vector<int32_t> values = label_values(label_image, label_path);
  const int classes = num_classes();
  for (size_t i = 0; i < values.size(); ++i) {
    int32_t value = values[i];
    if (value == options_.ignore_index || value == 255) {
      value = 255;
    } else if (options_.reduce_zero_label) {
      value = value == 0 ? 255 : value - 1;
    }
    if (value != 255 && value >= classes)
      throw Error(str(
          label_path, ": pixel (x=", i % image.width, ", y=", i / image.width, ") has label ", values[i],
          options_.reduce_zero_label ? str(" (", value, " after reduce_zero_label)") : "", ", but there are ",
          classes, " classes (values 0 … ", classes - 1,
          "; ignored: ", options_.ignore_index == 255 ? "255" : str(options_.ignore_index, " and 255"), ")"));
    sample.label.data()[i] = value;
  }
  sample.name = names_[index];
  return sample;
}

}  // namespace pg
