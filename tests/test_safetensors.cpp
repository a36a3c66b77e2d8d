// safetensors: round trips, byte compatibility with Python's safetensors, one error per kind of
// malformed file, truncation, atomic writes, and load_named_tensors' checks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "tests/test_util.h"

using namespace pg;
namespace fs = std::filesystem;

namespace {

// Each test gets a fresh folder under the system temp dir, removed afterwards.
class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / str("pixelgrad_safetensors_", ::getpid(), "_", info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file from a header text (padded here to a multiple of 8) and a data section.
std::string file_bytes(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return bytes + header + data;
}

// Expects load_safetensors(path) to throw a pg::Error whose message holds the path and `defect`.
void expect_rejected(const std::string& path, const std::string& defect) {
  try {
    load_safetensors(path);
    ADD_FAILURE() << "no error for a file that should show: " << defect;
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(defect), std::string::npos) << "expected '" << defect << "' in: " << message;
  }
}

std::string hex_to_bytes(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

// Generated with Python's safetensors 0.8.0:
//   safetensors.numpy.save({"weight": np.array([[1, -2.5], [0.125, 3]], np.float32),
//                           "labels": np.array([7, -1, 255], np.int32), "empty": np.zeros((0, 3),
//                           np.float32), "scale": np.array(0.5, np.float32)}, metadata={"format": "pt"})
// It sorts tensors by dtype (F32 before I32), then by name; the header is padded with 4 spaces.
const std::string kPythonHeader =
    R"({"__metadata__":{"format":"pt"},"empty":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},)"
    R"("scale":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"weight":{"dtype":"F32","shape":[2,2],)"
    R"("data_offsets":[4,20]},"labels":{"dtype":"I32","shape":[3],"data_offsets":[20,32]}}    )";
const std::string kPythonData =
    hex_to_bytes("0000003f0000803f000020c00000003e0000404007000000ffffffffff000000");

std::string python_file() {
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(kPythonHeader.size());  // 272 = 0x110
  bytes[1] = static_cast<char>(kPythonHeader.size() >> 8);
  return bytes + kPythonHeader + kPythonData;
}

// A valid two-tensor file: "a" (2,) at [0, 8), "b" (1,) at [8, 12).
const std::string kValidHeader =
    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
const std::string kTwelveBytes(12, '\0');

}  // namespace

TEST_F(Safetensors, RoundTripsFloatIntEmptyScalarAndMetadata) {
  Rng rng(11);
  NamedTensors tensors = {{"conv.weight", test::random_tensor({4, 3, 3, 3}, rng)},
                          {"conv.bias", test::random_tensor({4}, rng)},
                          {"empty", Tensor::zeros({0, 5})},
                          {"step", Tensor::scalar(42.0f)}};
  NamedIntTensors ints = {{"labels", IntTensor::from_vector({2, 3}, {0, 1, 255, -7, 2147483647, 3})}};
  std::map<std::string, std::string> metadata = {{"arch", "fcn8s"}, {"epoch", "3"}};
  save_safetensors(path("model.safetensors"), tensors, metadata, ints);

  SafetensorsContents loaded = load_safetensors(path("model.safetensors"));
  EXPECT_EQ(loaded.path, path("model.safetensors"));
  EXPECT_EQ(loaded.metadata, metadata);
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(loaded.tensors[i].first, tensors[i].first);  // written order is kept
    EXPECT_EQ(loaded.tensors[i].second.shape(), tensors[i].second.shape());
    EXPECT_EQ(loaded.tensors[i].second.to_vector(), tensors[i].second.to_vector());
  }
  EXPECT_EQ(loaded.tensor("step").dim(), 0);
  EXPECT_EQ(loaded.tensor("step").item(), 42.0f);
  ASSERT_EQ(loaded.int_tensors.size(), 1u);
  const IntTensor& labels = loaded.int_tensor("labels");
  EXPECT_EQ(labels.shape(), (Shape{2, 3}));
  EXPECT_EQ(std::vector<int32_t>(labels.data(), labels.data() + 6),
            (std::vector<int32_t>{0, 1, 255, -7, 2147483647, 3}));
  EXPECT_THROW(loaded.tensor("labels"), Error);  // I32, not F32
  EXPECT_THROW(loaded.int_tensor("step"), Error);
  EXPECT_THROW(loaded.tensor("nope"), Error);
  // 8 bytes of length, the header padded to a multiple of 8, then 4 bytes for each of the
  // 108 + 4 + 0 + 1 floats and 6 ints.
  const std::string bytes = read_bytes(path("model.safetensors"));
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(header_length % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header_length + 4 * (108 + 4 + 0 + 1 + 6));
}

TEST_F(Safetensors, ReadsAFileWrittenByPython) {
  write_bytes(path("python.safetensors"), python_file());
  SafetensorsContents loaded = load_safetensors(path("python.safetensors"));
  EXPECT_EQ(loaded.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(loaded.tensor("weight").shape(), (Shape{2, 2}));
  EXPECT_EQ(loaded.tensor("weight").to_vector(), (std::vector<float>{1.0f, -2.5f, 0.125f, 3.0f}));
  EXPECT_EQ(loaded.tensor("scale").shape(), Shape{});
  EXPECT_EQ(loaded.tensor("scale").item(), 0.5f);
  EXPECT_EQ(loaded.tensor("empty").shape(), (Shape{0, 3}));
  const IntTensor& labels = loaded.int_tensor("labels");
  EXPECT_EQ(std::vector<int32_t>(labels.data(), labels.data() + 3), (std::vector<int32_t>{7, -1, 255}));
}

TEST_F(Safetensors, WritesTheSameBytesAsPython) {
  NamedTensors tensors = {{"empty", Tensor::zeros({0, 3})},
                          {"scale", Tensor::scalar(0.5f)},
                          {"weight", Tensor::from_vector({2, 2}, {1.0f, -2.5f, 0.125f, 3.0f})}};
  NamedIntTensors ints = {{"labels", IntTensor::from_vector({3}, {7, -1, 255})}};
  save_safetensors(path("ours.safetensors"), tensors, {{"format", "pt"}}, ints);
  EXPECT_EQ(read_bytes(path("ours.safetensors")), python_file());
}

TEST_F(Safetensors, RejectsShortFilesAndBadHeaderLengths) {
  write_bytes(path("short"), std::string(5, '\0'));
  expect_rejected(path("short"), "shorter than the 8-byte header length");
  std::string huge_length = file_bytes(kValidHeader, kTwelveBytes);
  huge_length[5] = 1;  // header length now around 2^40
  write_bytes(path("huge"), huge_length);
  expect_rejected(path("huge"), "is larger than the");
  write_bytes(path("empty"), "");
  expect_rejected(path("empty"), "shorter than");
  expect_rejected(path("does_not_exist"), "cannot open");
}

TEST_F(Safetensors, RejectsInvalidJson) {
  write_bytes(path("bad.json"), file_bytes(R"({"a":{"dtype":"F32",)", ""));
  expect_rejected(path("bad.json"), "invalid JSON header");
  write_bytes(path("array.json"), file_bytes("[1, 2]", ""));
  expect_rejected(path("array.json"), "must be a JSON object");
}

TEST_F(Safetensors, RejectsEntriesMissingAField) {
  write_bytes(path("no_dtype"),
              file_bytes(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')));
  expect_rejected(path("no_dtype"), "tensor 'a': missing \"dtype\"");
  write_bytes(path("no_shape"),
              file_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", std::string(8, '\0')));
  expect_rejected(path("no_shape"), "tensor 'a': missing \"shape\"");
  write_bytes(path("no_offsets"), file_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", std::string(8, '\0')));
  expect_rejected(path("no_offsets"), "tensor 'a': missing \"data_offsets\"");
  write_bytes(path("not_object"), file_bytes(R"({"a":[1,2]})", ""));
  expect_rejected(path("not_object"), "tensor 'a': expected an object");
  write_bytes(path("bad_metadata"), file_bytes(R"({"__metadata__":{"k":3}})", ""));
  expect_rejected(path("bad_metadata"), "entry 'k' must be a string");
}

TEST_F(Safetensors, RejectsUnsupportedDtypesByName) {
  write_bytes(path("f16"),
              file_bytes(R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0')));
  expect_rejected(path("f16"), "unsupported dtype 'F16'");
  write_bytes(path("junk"),
              file_bytes(R"({"h":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')));
  expect_rejected(path("junk"), "unsupported dtype 'Q7'");
}

TEST_F(Safetensors, RejectsSizeMismatchAndNegativeDims) {
  write_bytes(path("size"),
              file_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')));
  expect_rejected(path("size"), "needs 12 bytes, but data_offsets [0, 8] hold 8");
  write_bytes(path("negative"),
              file_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", std::string(8, '\0')));
  expect_rejected(path("negative"), "negative dimension -2");
  write_bytes(path("overflow"),
              file_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                         std::string(8, '\0')));
  expect_rejected(path("overflow"), "too large");
  write_bytes(path("backwards"),
              file_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", std::string(8, '\0')));
  expect_rejected(path("backwards"), "end before they begin");
}

TEST_F(Safetensors, RejectsOffsetsOutsideTheDataSection) {
  write_bytes(path("outside"),
              file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", std::string(8, '\0')));
  expect_rejected(path("outside"), "lie outside the data section of 8 bytes");
}

TEST_F(Safetensors, RejectsOverlapsGapsAndUncoveredBytes) {
  write_bytes(path("overlap"), file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                          R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                          std::string(8, '\0')));
  expect_rejected(path("overlap"), "tensors 'a' and 'b' overlap");
  write_bytes(path("gap"), file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                      kTwelveBytes));
  expect_rejected(path("gap"), "bytes [4, 8) of the data section belong to no tensor");
  write_bytes(path("tail"), file_bytes(kValidHeader, kTwelveBytes + "xyz"));
  expect_rejected(path("tail"), "bytes [12, 15) at the end of the data section belong to no tensor");
}

TEST_F(Safetensors, RejectsDuplicateNames) {
  write_bytes(path("duplicate"), file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                            R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                            std::string(8, '\0')));
  expect_rejected(path("duplicate"), "names 'a' twice");
}

TEST_F(Safetensors, RejectsTruncatedFiles) {
  save_safetensors(path("full"), {{"w", Tensor::full({3, 5}, 1.5f)}});
  std::string bytes = read_bytes(path("full"));
  write_bytes(path("cut_data"), bytes.substr(0, bytes.size() - 3));
  expect_rejected(path("cut_data"), "is the file truncated?");
  write_bytes(path("cut_header"), bytes.substr(0, 20));
  expect_rejected(path("cut_header"), "is the file truncated?");
}

TEST_F(Safetensors, SaveRejectsBadInputAndLeavesTheOldFile) {
  const std::string target = path("keep.safetensors");
  save_safetensors(target, {{"w", Tensor::full({2}, 3.0f)}});
  const std::string before = read_bytes(target);
  EXPECT_THROW(save_safetensors(target, {{"w", Tensor::zeros({1})}, {"w", Tensor::zeros({1})}}), Error);
  EXPECT_THROW(save_safetensors(target, {{"w", Tensor()}}), Error);
  EXPECT_THROW(save_safetensors(target, {{"__metadata__", Tensor::zeros({1})}}), Error);
  EXPECT_THROW(save_safetensors(target, {{"w", Tensor::zeros({1})}}, {}, {{"w", IntTensor({1})}}), Error);
  EXPECT_EQ(read_bytes(target), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // no temp file left
}

TEST_F(Safetensors, AtomicWriteFailsCleanly) {
  // The folder does not exist: an error naming the path, and nothing is created.
  const std::string nowhere = path("no_such_folder/model.safetensors");
  try {
    save_safetensors(nowhere, {{"w", Tensor::zeros({2})}});
    ADD_FAILURE() << "no error for a missing folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(nowhere), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path("no_such_folder")));

  // The target is a non-empty folder: the temporary file is written, the rename fails, the
  // temporary file is removed and the folder is untouched.
  const std::string occupied = path("occupied");
  fs::create_directories(occupied);
  write_bytes(occupied + "/inside", "x");
  EXPECT_THROW(save_safetensors(occupied, {{"w", Tensor::zeros({2})}}), Error);
  EXPECT_TRUE(fs::is_directory(occupied));
  EXPECT_EQ(read_bytes(occupied + "/inside"), "x");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // only "occupied"

  // A successful overwrite replaces the file and leaves no temporary file beside it.
  save_safetensors(path("model"), {{"w", Tensor::zeros({2})}});
  save_safetensors(path("model"), {{"w", Tensor::full({3}, 2.0f)}});
  EXPECT_EQ(load_safetensors(path("model")).tensor("w").to_vector(), (std::vector<float>{2.0f, 2.0f, 2.0f}));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 2);
}

TEST_F(Safetensors, LoadNamedTensorsCopiesByName) {
  save_safetensors(path("m"),
                   {{"b", Tensor::from_vector({2}, {5.0f, 6.0f})}, {"a", Tensor::full({2, 2}, 1.0f)}});
  SafetensorsContents file = load_safetensors(path("m"));
  Tensor a = Tensor::zeros({2, 2}), b = Tensor::zeros({2});
  load_named_tensors({{"a", a}, {"b", b}}, file);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1.0f, 1.0f, 1.0f, 1.0f}));
  EXPECT_EQ(b.to_vector(), (std::vector<float>{5.0f, 6.0f}));
  file.tensors[0].second.data()[0] = -1.0f;  // a copy, not a shared handle
  EXPECT_EQ(b.data()[0], 5.0f);
}

TEST_F(Safetensors, LoadNamedTensorsChecksShapesNamesAndDtypes) {
  save_safetensors(path("m"), {{"a", Tensor::full({2, 3}, 1.0f)}, {"extra", Tensor::zeros({1})}}, {},
                   {{"labels", IntTensor({4})}});
  SafetensorsContents file = load_safetensors(path("m"));
  Tensor a = Tensor::zeros({3, 2});
  test::expect_error_containing(
      [&] {
        load_named_tensors({{"a", a}}, file, /*strict=*/false);
      },
      "'a' has shape (2, 3) in the file, expected (3, 2)");
  EXPECT_EQ(a.to_vector(), std::vector<float>(6, 0.0f));

  Tensor good = Tensor::zeros({2, 3}), missing = Tensor::full({1}, 9.0f);
  try {
    load_named_tensors({{"a", good}, {"missing", missing}}, file, /*strict=*/true);
    ADD_FAILURE() << "no error for missing names";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("missing from the file: 'missing'"), std::string::npos) << message;
    EXPECT_NE(message.find("not expected: 'extra', 'labels'"), std::string::npos) << message;
  }
  EXPECT_EQ(good.to_vector(), std::vector<float>(6, 0.0f));  // nothing copied on failure

  load_named_tensors({{"a", good}, {"missing", missing}}, file, /*strict=*/false);  // skips both sides
  EXPECT_EQ(good.to_vector(), std::vector<float>(6, 1.0f));
  EXPECT_EQ(missing.item(), 9.0f);

  EXPECT_THROW(load_named_tensors({{"labels", Tensor::zeros({4})}}, file, /*strict=*/false), Error);  // I32
}
