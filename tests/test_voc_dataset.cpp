// The VOC-format folder: VOC's colour map, write → read round trips (PNG exact, JPEG close), palette
// PNG labels, ignore_index and reduce_zero_label, one error per kind of bad folder or file, the
// committed toy sample against the generator, and batches through BatchLoader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "data/loader.h"
#include "data/toy_dataset.h"
#include "data/voc_dataset.h"
#include "tests/test_util.h"

using namespace pg;
namespace fs = std::filesystem;

namespace {

const char* kToySamplePath = "data/toy_sample";

// Samples held in memory, with the given class names.
class ListDataset : public Dataset {
 public:
  ListDataset(std::vector<Sample> samples, std::vector<std::string> class_names)
      : samples_(std::move(samples)), class_names_(std::move(class_names)) {}
  int64_t size() const override { return static_cast<int64_t>(samples_.size()); }
  Sample get(int64_t index) const override { return samples_.at(index); }
  int num_classes() const override { return static_cast<int>(class_names_.size()); }
  std::vector<std::string> class_names() const override { return class_names_; }

 private:
  std::vector<Sample> samples_;
  std::vector<std::string> class_names_;
};

Sample flat_sample(const std::string& name, int height, int width, int32_t label) {
  Sample s;
  s.image = Tensor::full({3, height, width}, 0.5f);
  s.label = LabelMap({height, width}, label);
  s.name = name;
  return s;
}

bool same_labels(const LabelMap& a, const LabelMap& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.numel(), b.data());
}

// The image as 8-bit PNG pixels hold it, back in [0, 1]: what an exact round trip gives.
Tensor quantised(const Tensor& image) {
  return image_to_tensor(tensor_to_image(image), "quantised");
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> files_in(const fs::path& folder) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.insert(entry.path().filename().string());
  return {names.begin(), names.end()};
}

// Each test gets a fresh folder under the system temp dir, removed afterwards. folder() holds a
// valid VOC layout with one 4×3 sample "a" (image a.png, label of `label` values) in split train.
class Voc : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / str("pixelgrad_voc_", ::getpid(), "_", info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string make_folder(const Image8& label, const std::vector<std::string>& class_names = {}) {
    const fs::path root = dir_ / "voc";
    fs::create_directories(root / "JPEGImages");
    fs::create_directories(root / "SegmentationClass");
    fs::create_directories(root / "ImageSets" / "Segmentation");
    write_image((root / "JPEGImages" / "a.png").string(), gray_image(label.width, label.height, 1, 100),
                ImageFormat::png);
    write_image(label_file(), label, ImageFormat::png);
    write_text(root / "ImageSets" / "Segmentation" / "train.txt", "a\n");
    if (!class_names.empty()) {
      std::string text;
      for (const std::string& name : class_names) text += name + "\n";
      write_text(root / "class_names.txt", text);
    }
    return root.string();
  }
  std::string image_file() const { return (dir_ / "voc" / "JPEGImages" / "a.png").string(); }
  std::string label_file() const { return (dir_ / "voc" / "SegmentationClass" / "a.png").string(); }

  static Image8 gray_image(int width, int height, int channels, uint8_t value) {
    return Image8{width, height, channels,
                  std::vector<uint8_t>(static_cast<size_t>(width) * height * channels, value)};
  }
  // A 1-channel 4×3 index label holding `values` row by row.
  static Image8 index_label(const std::vector<uint8_t>& values) { return Image8{4, 3, 1, values}; }

  fs::path dir_;
};

const std::vector<std::string> kSixClasses = {"background", "b", "c", "d", "e", "f"};

}  // namespace

// ---- VOC's colour map ----------------------------------------------------------------------------

TEST(VocPalette, KnownColoursOfTheDevkitMap) {
  using Colour = std::array<uint8_t, 3>;
  EXPECT_EQ(voc_palette_colour(0), (Colour{0, 0, 0}));
  EXPECT_EQ(voc_palette_colour(1), (Colour{128, 0, 0}));
  EXPECT_EQ(voc_palette_colour(2), (Colour{0, 128, 0}));
  EXPECT_EQ(voc_palette_colour(15), (Colour{192, 128, 128}));   // person
  EXPECT_EQ(voc_palette_colour(20), (Colour{0, 64, 128}));      // tvmonitor
  EXPECT_EQ(voc_palette_colour(255), (Colour{224, 224, 192}));  // void
  EXPECT_EQ(voc_class_names().size(), 21u);
  EXPECT_EQ(voc_class_names()[15], "person");
  test::expect_error_containing([] { voc_palette_colour(256); }, "got 256");
}

TEST(VocPalette, EveryIndexHasItsOwnColourAndMapsBack) {
  std::set<std::array<uint8_t, 3>> colours;
  for (int i = 0; i < 256; ++i) {
    colours.insert(voc_palette_colour(i));
    EXPECT_EQ(voc_palette_index(voc_palette_colour(i)), i);
  }
  EXPECT_EQ(colours.size(), 256u);
  EXPECT_EQ(voc_palette_index({1, 2, 3}), -1);
  EXPECT_EQ(voc_palette_index({1, 1, 1}), -1);  // a gray label saved as RGB is not a palette PNG
}

// ---- Round trips ----------------------------------------------------------------------------------

TEST_F(Voc, PngRoundTripIsExact) {
  ToyDataset train(ToyOptions{.height = 24, .width = 32, .count = 3, .seed = 5, .border_ignore = 1});
  ToyDataset val(ToyOptions{.height = 24, .width = 32, .count = 2, .seed = 5, .first_index = 3});
  const std::string root = (dir_ / "out").string();
  write_voc_dataset(root, {{"train", &train}, {"val", &val}});

  EXPECT_EQ(files_in(dir_ / "out" / "ImageSets" / "Segmentation"),
            (std::vector<std::string>{"train.txt", "val.txt"}));
  EXPECT_EQ(read_text(dir_ / "out" / "ImageSets" / "Segmentation" / "val.txt"), "toy-3\ntoy-4\n");
  for (const auto& [split, original] :
       {std::pair<std::string, ToyDataset*>{"train", &train}, {"val", &val}}) {
    VocDataset read(root, VocOptions{.split = split});
    ASSERT_EQ(read.size(), original->size());
    EXPECT_EQ(read.num_classes(), kToyClassCount);
    EXPECT_EQ(read.class_names(), toy_class_names());
    for (int64_t i = 0; i < read.size(); ++i) {
      const Sample got = read.get(i), expected = original->get(i);
      EXPECT_EQ(got.name, expected.name);
      EXPECT_TRUE(same_labels(got.label, expected.label)) << got.name;
      test::expect_close(got.image, quantised(expected.image), 0.0f, 0.0f, got.name);
    }
  }
  const LabelMap first_label = train.get(0).label;
  EXPECT_NE(std::count(first_label.data(), first_label.data() + first_label.numel(), 255), 0)
      << "the border band (255) should be part of the round trip";
}

TEST_F(Voc, JpegRoundTripKeepsLabelsExactAndImagesClose) {
  ToyDataset toy(ToyOptions{.height = 32, .width = 32, .count = 2, .seed = 9});
  const std::string root = (dir_ / "out").string();
  write_voc_dataset(root, {{"train", &toy}}, VocWriteOptions{.image_format = ImageFormat::jpg});
  EXPECT_TRUE(fs::exists(dir_ / "out" / "JPEGImages" / "toy-0.jpg"));
  VocDataset read(root, VocOptions{});
  for (int64_t i = 0; i < 2; ++i) {
    const Sample got = read.get(i), expected = toy.get(i);
    EXPECT_TRUE(same_labels(got.label, expected.label));
    double total = 0;
    for (int64_t k = 0; k < got.image.numel(); ++k)
      total += std::fabs(got.image.data()[k] - expected.image.data()[k]);
    EXPECT_LT(total / got.image.numel(), 0.02) << "mean |JPEG − original| at quality 95";
  }
}

TEST_F(Voc, PaletteLabelsRoundTripExactly) {
  ToyDataset toy(ToyOptions{.height = 16, .width = 16, .count = 2, .seed = 4, .border_ignore = 1});
  const std::string root = (dir_ / "out").string();
  write_voc_dataset(root, {{"train", &toy}}, VocWriteOptions{.palette_labels = true});
  const Image8 file = read_image((dir_ / "out" / "SegmentationClass" / "toy-0.png").string());
  ASSERT_EQ(file.channels, 3);
  const Sample expected = toy.get(0);
  const int32_t first = expected.label.data()[0];
  EXPECT_EQ((std::array<uint8_t, 3>{file.at(0, 0, 0), file.at(0, 0, 1), file.at(0, 0, 2)}),
            voc_palette_colour(first));
  VocDataset read(root, VocOptions{});
  for (int64_t i = 0; i < 2; ++i) EXPECT_TRUE(same_labels(read.get(i).label, toy.get(i).label));
}

TEST_F(Voc, HandMadePalettePngMapsColoursToIndices) {
  // Row 0: indices 0, 1, 15, 255; rows 1 and 2: index 20. RGBA (alpha ignored) as some tools save.
  Image8 label{4, 3, 4, {}};
  const int indices[12] = {0, 1, 15, 255, 20, 20, 20, 20, 20, 20, 20, 20};
  for (int index : indices) {
    const auto colour = voc_palette_colour(index);
    label.pixels.insert(label.pixels.end(), {colour[0], colour[1], colour[2], 255});
  }
  VocDataset read(make_folder(label), VocOptions{});
  EXPECT_EQ(read.num_classes(), 21);
  EXPECT_EQ(read.class_names(), voc_class_names());
  const Sample s = read.get(0);
  EXPECT_EQ(s.name, "a");
  EXPECT_EQ(s.label.shape(), (Shape{3, 4}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(s.label.data()[i], indices[i]) << "pixel " << i;
  EXPECT_EQ(s.image.shape(), (Shape{3, 3, 4}));
  EXPECT_FLOAT_EQ(s.image.data()[0], 100.0f / 255.0f);  // a gray image is copied to R, G, B
}

// ---- Label options --------------------------------------------------------------------------------

TEST_F(Voc, IgnoreIndexAndReduceZeroLabel) {
  const std::string root =
      make_folder(index_label({0, 1, 2, 5, 255, 6, 0, 0, 0, 0, 0, 0}), {"a", "b", "c", "d", "e", "f", "g"});
  auto first_six = [](const Sample& s) { return std::vector<int32_t>(s.label.data(), s.label.data() + 6); };
  EXPECT_EQ(first_six(VocDataset(root, VocOptions{}).get(0)), (std::vector<int32_t>{0, 1, 2, 5, 255, 6}));
  EXPECT_EQ(first_six(VocDataset(root, VocOptions{.ignore_index = 5}).get(0)),
            (std::vector<int32_t>{0, 1, 2, 255, 255, 6}));
  EXPECT_EQ(first_six(VocDataset(root, VocOptions{.reduce_zero_label = true}).get(0)),
            (std::vector<int32_t>{255, 0, 1, 4, 255, 5}));
  EXPECT_EQ(first_six(VocDataset(root, VocOptions{.ignore_index = 1, .reduce_zero_label = true}).get(0)),
            (std::vector<int32_t>{255, 255, 1, 4, 255, 5}));
}

TEST_F(Voc, ClassCountFromOptionsOrClassNames) {
  const std::string root = make_folder(index_label(std::vector<uint8_t>(12, 1)));
  EXPECT_EQ(VocDataset(root, VocOptions{.num_classes = 3}).class_names(),
            (std::vector<std::string>{"class_0", "class_1", "class_2"}));
  write_text(dir_ / "voc" / "class_names.txt", "bg\r\nthing\r\n");  // Windows line ends
  EXPECT_EQ(VocDataset(root, VocOptions{}).class_names(), (std::vector<std::string>{"bg", "thing"}));
  test::expect_error_containing([&] { VocDataset(root, VocOptions{.num_classes = 3}); },
                                "class_names.txt: lists 2 classes, but num_classes is 3");
  write_text(dir_ / "voc" / "class_names.txt", "bg\n\nthing\n");
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}); }, "class_names.txt:2: blank line");
}

// ---- Bad input: each gives its error, naming the file --------------------------------------------

TEST_F(Voc, LabelValueNotAClass) {
  std::vector<uint8_t> values(12, 0);
  values[1 * 4 + 2] = 9;  // (x=2, y=1)
  const std::string root = make_folder(index_label(values), kSixClasses);
  VocDataset read(root, VocOptions{});
  EXPECT_EQ(read.num_classes(), 6);
  test::expect_error_containing([&] { read.get(0); },
                                label_file() + ": pixel (x=2, y=1) has label 9, but there are 6 classes");
  values[1 * 4 + 2] = 6;
  const std::string reduced = make_folder(index_label(values), kSixClasses);
  EXPECT_NO_THROW(VocDataset(reduced, VocOptions{.reduce_zero_label = true}).get(0));  // 6 → 5
  test::expect_error_containing([&] { VocDataset(reduced, VocOptions{}).get(0); }, "has label 6");
}

TEST_F(Voc, PaletteColourNotInTheMap) {
  Image8 label = gray_image(4, 3, 3, 0);
  const size_t pixel = (2 * 4 + 3) * 3;  // (x=3, y=2)
  label.pixels[pixel] = 1, label.pixels[pixel + 1] = 2, label.pixels[pixel + 2] = 3;
  VocDataset read(make_folder(label), VocOptions{});
  test::expect_error_containing(
      [&] { read.get(0); },
      label_file() + ": pixel (x=3, y=2) has colour (1, 2, 3), which is not in the VOC colour map");
}

TEST_F(Voc, ImageAndLabelSizesDiffer) {
  const std::string root = make_folder(index_label(std::vector<uint8_t>(12, 0)));
  write_image(image_file(), gray_image(5, 3, 3, 7), ImageFormat::png);
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}).get(0); },
                                image_file() + " is 5x3 but its label " + label_file() + " is 4x3");
}

TEST_F(Voc, TruncatedAndNonImageFiles) {
  const std::string root = make_folder(index_label(std::vector<uint8_t>(12, 0)));
  const std::string bytes = read_text(image_file());
  write_text(image_file(), bytes.substr(0, bytes.size() / 2));
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}).get(0); },
                                image_file() + ": cannot decode");
  write_text(image_file(), bytes);
  write_text(label_file(), "this is a text file, not a PNG\n");
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}).get(0); },
                                label_file() + ": cannot decode");
  write_text(label_file(), "");
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}).get(0); },
                                label_file() + ": the file is empty");
}

TEST_F(Voc, MissingFilesAndFolders) {
  const std::string root = make_folder(index_label(std::vector<uint8_t>(12, 0)));
  test::expect_error_containing([&] { VocDataset((dir_ / "nowhere").string(), VocOptions{}); },
                                "nowhere: no such folder");
  test::expect_error_containing(
      [&] { VocDataset(root, VocOptions{.split = "val"}); },
      (dir_ / "voc" / "ImageSets" / "Segmentation" / "val.txt").string() + ": the split list is missing");
  fs::remove(label_file());
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}); }, label_file() + " does not exist");
  fs::remove(image_file());
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}); },
                                "the image of 'a' is missing: neither");
}

TEST_F(Voc, BadSplitListsAndOptions) {
  const std::string root = make_folder(index_label(std::vector<uint8_t>(12, 0)));
  const fs::path list = dir_ / "voc" / "ImageSets" / "Segmentation" / "train.txt";
  write_text(list, "\n  \n");
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}); },
                                "train.txt: the split list is empty");
  write_text(list, "a 1\n");
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}); },
                                "train.txt:1: expected one sample name a line");
  write_text(list, "a\n");
  write_image((dir_ / "voc" / "JPEGImages" / "a.jpg").string(), gray_image(4, 3, 3, 0), ImageFormat::jpg);
  test::expect_error_containing([&] { VocDataset(root, VocOptions{}); }, "is ambiguous");
  test::expect_error_containing([&] { VocDataset(root, VocOptions{.num_classes = 256}); },
                                "num_classes must be in [1, 255]");
  test::expect_error_containing([&] { VocDataset(root, VocOptions{.ignore_index = -1}); },
                                "ignore_index must be in [0, 255]");
}

TEST_F(Voc, WriterErrorsNameTheSampleOrFile) {
  const std::string root = (dir_ / "out").string();
  ListDataset twice({flat_sample("x", 2, 2, 0), flat_sample("x", 2, 2, 1)}, {"a", "b"});
  test::expect_error_containing(
      [&] {
        write_voc_dataset(root, {{"train", &twice}});
      },
      "the name 'x' appears twice");
  ListDataset slash({flat_sample("a/b", 2, 2, 0)}, {"a", "b"});
  test::expect_error_containing([&] { write_voc_dataset(root, {{"train", &slash}}); }, "is named 'a/b'");
  ListDataset big_label({flat_sample("y", 2, 2, 300)}, {"a", "b"});
  test::expect_error_containing(
      [&] {
        write_voc_dataset(root, {{"train", &big_label}});
      },
      (dir_ / "out" / "SegmentationClass" / "y.png").string() + ": cannot write the label");
  ListDataset empty({}, {"a", "b"}), other({flat_sample("z", 2, 2, 0)}, {"a", "c"});
  test::expect_error_containing([&] { write_voc_dataset(root, {{"val", &empty}}); }, "split 'val' is empty");
  test::expect_error_containing(
      [&] {
        write_voc_dataset(root, {{"train", &big_label}, {"val", &other}});
      },
      "split 'val' has other class names");
  ListDataset fine({flat_sample("z", 2, 2, 1)}, {"a", "b"});
  write_voc_dataset(root, {{"train", &fine}}, VocWriteOptions{.image_format = ImageFormat::jpg});
  test::expect_error_containing([&] { write_voc_dataset(root, {{"train", &fine}}); }, "z.jpg already exists");
}

// ---- The committed toy sample and the loader -----------------------------------------------------

// data/toy_sample/ is the toy generator's output for toy_sample_{train,val}_options(), written by
// write_voc_dataset with PNG images. After a deliberate change to the generator, regenerate it with
//   PG_UPDATE_TOY_SAMPLE=1 build/release/pixelgrad_tests --gtest_filter='VocToySample.*'
// (from the repository root) and commit the files.
TEST(VocToySample, CommittedFilesMatchTheGenerator) {
  ToyDataset train(toy_sample_train_options()), val(toy_sample_val_options());
  if (std::getenv("PG_UPDATE_TOY_SAMPLE") != nullptr) {
    fs::remove_all(kToySamplePath);
    write_voc_dataset(kToySamplePath, {{"train", &train}, {"val", &val}});
  }
  ASSERT_TRUE(fs::is_directory(kToySamplePath)) << kToySamplePath << " not found from " << fs::current_path()
                                                << ": run the tests from the repository root";
  std::vector<std::string> expected_files;
  for (int i = 0; i < 8; ++i) expected_files.push_back(str("toy-", i, ".png"));
  EXPECT_EQ(files_in(fs::path(kToySamplePath) / "JPEGImages"), expected_files);
  EXPECT_EQ(files_in(fs::path(kToySamplePath) / "SegmentationClass"), expected_files);
  EXPECT_EQ(read_text(fs::path(kToySamplePath) / "class_names.txt"),
            "background\ncircle\nsquare\ntriangle\ncross\nring\n");
  for (const auto& [split, generated] :
       {std::pair<std::string, ToyDataset*>{"train", &train}, {"val", &val}}) {
    VocDataset committed(kToySamplePath, VocOptions{.split = split});
    ASSERT_EQ(committed.size(), generated->size()) << split;
    for (int64_t i = 0; i < committed.size(); ++i) {
      const Sample got = committed.get(i), expected = generated->get(i);
      EXPECT_EQ(got.name, expected.name);
      EXPECT_EQ(got.image.shape(), (Shape{3, 64, 64}));
      EXPECT_TRUE(same_labels(got.label, expected.label))
          << got.name
          << ": the committed label differs from the generator's (see the comment above to regenerate)";
      // One 8-bit step of slack: the generator's floats differ in the last bits between builds
      // (release -O3 and asan -O1 round one of toy-6's 12288 values to neighbouring bytes).
      test::expect_close(got.image, quantised(expected.image), 0.0f, 1.0f / 255.0f + 1e-6f,
                         got.name + " (committed vs generated)");
    }
  }
}

TEST(VocToySample, BatchLoaderReadsIt) {
  auto sample = std::make_shared<VocDataset>(kToySamplePath, VocOptions{});
  ASSERT_EQ(sample->num_classes(), kToyClassCount);
  BatchLoader loader(sample,
                     LoaderOptions{.batch_size = 4, .seed = 3, .augment = {.crop_h = 48, .crop_w = 48}});
  EXPECT_EQ(loader.steps_per_epoch(), 2);  // 6 train images
  const Batch batch = loader.batch(1);
  EXPECT_EQ(batch.images.shape(), (Shape{4, 3, 48, 48}));
  EXPECT_EQ(batch.labels.shape(), (Shape{4, 48, 48}));
  for (int64_t i = 0; i < batch.labels.numel(); ++i) {
    const int32_t v = batch.labels.data()[i];
    ASSERT_TRUE(v == 255 || (v >= 0 && v < kToyClassCount)) << v;
  }
  const Batch eval = make_batch(VocDataset(kToySamplePath, VocOptions{.split = "val"}), 0, 2);
  EXPECT_EQ(eval.images.shape(), (Shape{2, 3, 64, 64}));
  EXPECT_EQ(eval.names, (std::vector<std::string>{"toy-6", "toy-7"}));
}
