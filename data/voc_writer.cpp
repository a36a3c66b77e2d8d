// The VOC-format folder writer: any Dataset to JPEGImages/, SegmentationClass/, the split lists
// and class_names.txt, in the layout VocDataset reads.
#include <filesystem>
#include <fstream>
#include <map>

#include "core/error.h"
#include "data/voc_dataset.h"

namespace pg {

namespace fs = std::filesystem;

namespace {

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream file(path);
  check(file.good(), path.string(), ": cannot create the file");
  for (const std::string& line : lines) file << line << '\n';
  file.close();
  check(file.good(), path.string(), ": write error");
}

void create_folder(const fs::path& path) {
  std::error_code error;
  fs::create_directories(path, error);
  check(!error && fs::is_directory(path), path.string(), ": cannot create the folder (", error.message(),
        ")");
}

void check_sample_name(const std::string& name, const std::string& split, int64_t index) {
  check(!name.empty() && name.find_first_of("/\\ \t\r\n") == std::string::npos, "write_voc_dataset: sample ",
        index, " of split '", split, "' is named '", name,
        "': a name must be non-empty, without '/', '\\' or whitespace, since it names the files");
}

// label_to_image, its error naming the file the label was going to.
Image8 label_image(const LabelMap& label, const std::string& path) {
  try {
    return label_to_image(label);
  } catch (const Error& error) {
    throw Error(str(path, ": cannot write the label: ", error.what()));
  }
}

// An index label as VOC palette colours (RGB).
Image8 palette_image(const Image8& indices) {
  Image8 rgb{indices.width, indices.height, 3, std::vector<uint8_t>(indices.pixels.size() * 3)};
  for (size_t i = 0; i < indices.pixels.size(); ++i) {
    const std::array<uint8_t, 3> colour = voc_palette_colour(indices.pixels[i]);
    for (int k = 0; k < 3; ++k) rgb.pixels[i * 3 + k] = colour[k];
  }
  return rgb;
}

}  // namespace

void write_voc_dataset(const std::string& root,
                       const std::vector<std::pair<std::string, const Dataset*>>& splits,
                       const VocWriteOptions& options) {
  check(!splits.empty(), "write_voc_dataset: no split to write");
  for (const auto& [split, dataset] : splits) {
    check(!split.empty() && split.find('/') == std::string::npos,
          "write_voc_dataset: the split must be a name such as 'train', got '", split, "'");
    check(dataset != nullptr, "write_voc_dataset: split '", split, "' has no dataset");
    check(dataset->size() > 0, "write_voc_dataset: split '", split, "' is empty (VocDataset cannot read it)");
    check(dataset->class_names() == splits.front().second->class_names(), "write_voc_dataset: split '", split,
          "' has other class names than split '", splits.front().first, "'");
  }
  const std::vector<std::string> class_names = splits.front().second->class_names();
  check(static_cast<int>(class_names.size()) == splits.front().second->num_classes(),
        "write_voc_dataset: the dataset has ", splits.front().second->num_classes(), " classes but ",
        class_names.size(), " class names");

  const fs::path base(root), images(base / "JPEGImages"), labels(base / "SegmentationClass"),
      lists(base / "ImageSets" / "Segmentation");
  for (const fs::path& folder : {images, labels, lists}) create_folder(folder);
  const bool png = options.image_format == ImageFormat::png;
  const char* extension = png ? ".png" : ".jpg";
  const char* other_extension = png ? ".jpg" : ".png";

  std::map<std::string, std::string> written;  // sample name → the split that wrote it
  for (const auto& [split, dataset] : splits) {
    std::vector<std::string> names;
    for (int64_t i = 0; i < dataset->size(); ++i) {
      const Sample sample = dataset->get(i);
      check_sample_name(sample.name, split, i);
      const auto [previous, is_new] = written.emplace(sample.name, split);
      check(is_new, "write_voc_dataset: the name '", sample.name, "' appears twice (in split '",
            previous->second, "' and split '", split, "'): each name is one file");
      const fs::path image_path = images / (sample.name + extension);
      const fs::path other_image = images / (sample.name + other_extension);
      const fs::path label_path = labels / (sample.name + ".png");
      check(!fs::exists(other_image), "write_voc_dataset: ", other_image.string(),
            " already exists: writing ", image_path.string(), " too would leave the image of '", sample.name,
            "' ambiguous");
      check(sample.image.defined() && sample.label.defined() && sample.label.dim() == 2 &&
                sample.image.dim() == 3 && sample.image.size(1) == sample.label.size(0) &&
                sample.image.size(2) == sample.label.size(1),
            "write_voc_dataset: sample '", sample.name, "' has image ",
            sample.image.defined() ? shape_str(sample.image.shape()) : "undefined", " and label ",
            sample.label.defined() ? shape_str(sample.label.shape()) : "undefined",
            ": expected (3, H, W) and (H, W)");
      write_image(image_path.string(), tensor_to_image(sample.image), options.image_format);
      const Image8 label = label_image(sample.label, label_path.string());
      write_image(label_path.string(), options.palette_labels ? palette_image(label) : label,
                  ImageFormat::png);
      names.push_back(sample.name);
    }
    write_lines(lists / (split + ".txt"), names);
  }
  write_lines(base / "class_names.txt", class_names);
}

}  // namespace pg
