// safetensors reading and writing (see core/safetensors.h). The layout, byte by byte:
//   [0, 8)          N, the header length, a little-endian uint64
//   [8, 8 + N)      JSON: {"__metadata__": {str: str}, "name": {"dtype": "F32", "shape": [2, 3],
//                   "data_offsets": [begin, end]}, ...}, padded with spaces to a multiple of 8
//   [8 + N, size)   the data section; each tensor's raw little-endian values at [begin, end)
// The reader trusts nothing: every range must lie in the data section, and together the ranges
// must cover it exactly, without gaps or overlaps, as the format's specification requires.
#include "core/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace pg {

// The data section is the tensors' memory copied byte for byte, so the host must be little-endian.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using Json = nlohmann::ordered_json;  // keeps the header's key order (the order tensors were written)

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr const char* kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::string& path, const std::string& defect) {
  throw Error(str("safetensors: ", path, ": ", defect));
}

// ---------------------------------------------------------------------------------------------
// Writing

// One tensor of either dtype, as the writer sees it: a name, a shape and its bytes.
struct OutgoingTensor {
  const std::string* name;
  const char* dtype;
  Shape shape;
  const char* bytes;
  uint64_t byte_count;
};

std::vector<OutgoingTensor> outgoing_tensors(const std::string& path, const NamedTensors& tensors,
                                             const NamedIntTensors& int_tensors) {
  std::vector<OutgoingTensor> out;
  std::set<std::string> names;
  auto add = [&](const std::string& name, const char* dtype, const Shape& shape, const void* data) {
    if (name == kMetadataKey) fail(path, str("'", kMetadataKey, "' is reserved and cannot name a tensor"));
    if (!names.insert(name).second) fail(path, str("cannot save two tensors named '", name, "'"));
    uint64_t byte_count = static_cast<uint64_t>(shape_numel(shape)) * 4;  // F32 and I32: 4 bytes
    out.push_back({&name, dtype, shape, static_cast<const char*>(data), byte_count});
  };
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) fail(path, str("cannot save tensor '", name, "': it is undefined"));
    add(name, "F32", t.shape(), t.data());
  }
  for (const auto& [name, t] : int_tensors) {
    if (!t.defined()) fail(path, str("cannot save tensor '", name, "': it is undefined"));
    add(name, "I32", t.shape(), t.data());
  }
  return out;
}

// The JSON header, compact and space-padded to a multiple of 8, with tensors laid out in the
// order given: the same bytes Python's safetensors writes for tensors in that order.
std::string header_text(const std::string& path, const std::vector<OutgoingTensor>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const OutgoingTensor& t : tensors) {
    header[*t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.byte_count}}};
    offset += t.byte_count;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::exception& e) {  // e.g. a name that is not valid UTF-8
    fail(path, str("cannot encode the header: ", e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// write() until everything is out: a single call may write less than asked.
bool write_all(int fd, const char* bytes, uint64_t count) {
  while (count > 0) {
    ssize_t written = ::write(fd, bytes, std::min<uint64_t>(count, 1u << 30));
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes += written;
    count -= static_cast<uint64_t>(written);
  }
  return true;
}

// Makes the rename itself durable. Best effort: some file systems refuse fsync on a directory.
void sync_directory_of(const std::string& path) {
  std::string directory = std::filesystem::path(path).parent_path().string();
  int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// ---------------------------------------------------------------------------------------------
// Reading

struct Entry {
  std::string name;
  std::string dtype;  // "F32" or "I32" once validated
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range within the data section
};

uint64_t read_le_u64(const unsigned char bytes[8]) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

Entry parse_entry(const std::string& path, const std::string& name, const Json& info) {
  const std::string where = str("tensor '", name, "'");
  if (!info.is_object()) fail(path, str(where, ": expected an object with dtype, shape and data_offsets"));
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!info.contains(field)) fail(path, str(where, ": missing \"", field, "\""));

  Entry entry;
  entry.name = name;
  if (!info["dtype"].is_string()) fail(path, str(where, ": \"dtype\" must be a string"));
  entry.dtype = info["dtype"].get<std::string>();
  if (entry.dtype != "F32" && entry.dtype != "I32")
    fail(path, str(where, ": unsupported dtype '", entry.dtype, "' (pixelgrad reads F32 and I32)"));

  if (!info["shape"].is_array()) fail(path, str(where, ": \"shape\" must be a list of integers"));
  for (const Json& d : info["shape"]) {
    if (!d.is_number_integer())
      fail(path, str(where, ": \"shape\" must be a list of integers, got ", d.dump()));
    if (d.get<int64_t>() < 0) fail(path, str(where, ": negative dimension ", d.get<int64_t>(), " in shape"));
    entry.shape.push_back(d.get<int64_t>());
  }

  const Json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail(path, str(where, ": \"data_offsets\" must be two non-negative integers [begin, end], got ",
                   offsets.dump()));
  entry.begin = offsets[0].get<uint64_t>();
  entry.end = offsets[1].get<uint64_t>();
  if (entry.end < entry.begin)
    fail(path, str(where, ": data_offsets [", entry.begin, ", ", entry.end, "] end before they begin"));

  // numel · 4 must equal end − begin; multiply with overflow checks (a hostile shape may be huge).
  uint64_t bytes = 4;
  for (int64_t d : entry.shape)
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
      fail(path, str(where, ": shape ", shape_str(entry.shape), " is too large"));
  if (bytes != entry.end - entry.begin)
    fail(path,
         str(where, ": shape ", shape_str(entry.shape), " of ", entry.dtype, " needs ", bytes,
             " bytes, but data_offsets [", entry.begin, ", ", entry.end, "] hold ", entry.end - entry.begin));
  return entry;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const Json& metadata) {
  if (!metadata.is_object()) fail(path, str("\"", kMetadataKey, "\" must be an object of strings"));
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) fail(path, str("\"", kMetadataKey, "\" entry '", key, "' must be a string"));
    out[key] = value.get<std::string>();
  }
  return out;
}

// The JSON text → entries, rejecting duplicate names (JSON parsers would silently keep the last).
Json parse_header(const std::string& path, const std::string& text) {
  std::string duplicate;
  std::set<std::string> top_level_keys;
  auto note_duplicates = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 &&
        !top_level_keys.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, note_duplicates);
  } catch (const Json::exception& e) {
    fail(path, str("invalid JSON header: ", e.what()));
  }
  if (!duplicate.empty()) fail(path, str("the header names '", duplicate, "' twice"));
  if (!header.is_object()) fail(path, "the header must be a JSON object");
  return header;
}

// Ranges sorted by start must tile [0, data_bytes) exactly: no gap, no overlap.
void check_coverage(const std::string& path, std::vector<Entry>& entries, uint64_t data_bytes) {
  for (const Entry& e : entries)
    if (e.end > data_bytes)
      fail(path, str("tensor '", e.name, "': data_offsets [", e.begin, ", ", e.end,
                     "] lie outside the data section of ", data_bytes, " bytes (is the file truncated?)"));
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      fail(path,
           str("tensors '", previous->name, "' and '", e.name, "' overlap: byte ", e.begin, " < ", covered));
    if (e.begin > covered)
      fail(path, str("bytes [", covered, ", ", e.begin,
                     ") of the data section belong to no tensor (a gap before '", e.name, "')"));
    covered = e.end;
    previous = &e;
  }
  if (covered != data_bytes)
    fail(path,
         str("bytes [", covered, ", ", data_bytes, ") at the end of the data section belong to no tensor"));
}

std::string os_error() {
  return std::strerror(errno);
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const NamedIntTensors& int_tensors) {
  const std::vector<OutgoingTensor> outgoing = outgoing_tensors(path, tensors, int_tensors);
  const std::string header = header_text(path, outgoing, metadata);
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(uint64_t{header.size()} >> (8 * i));

  // Write everything to a temporary file beside the target, flush it to disk, then rename it
  // over the target: readers see the old file or the new one, never half of one.
  const std::string temp_path = str(path, ".tmp-", ::getpid());
  int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, str("cannot create ", temp_path, ": ", os_error()));
  auto abandon = [&](const std::string& step) {
    std::string reason = os_error();
    if (fd >= 0) ::close(fd);
    ::unlink(temp_path.c_str());
    fail(path, str(step, " failed: ", reason));
  };
  if (!write_all(fd, reinterpret_cast<const char*>(length), 8) ||
      !write_all(fd, header.data(), header.size()))
    abandon("writing the header");
  for (const OutgoingTensor& t : outgoing)
    if (!write_all(fd, t.bytes, t.byte_count)) abandon(str("writing tensor '", *t.name, "'"));
  if (::fsync(fd) != 0) abandon("fsync");
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) abandon("close");
  if (std::rename(temp_path.c_str(), path.c_str()) != 0) abandon(str("renaming ", temp_path, " over it"));
  sync_directory_of(path);
}

SafetensorsContents load_safetensors(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail(path, str("cannot open: ", os_error()));
  std::error_code size_error;
  const uint64_t file_bytes = std::filesystem::file_size(path, size_error);
  if (size_error) fail(path, str("cannot read its size: ", size_error.message()));
  if (file_bytes < 8)
    fail(path, str("the file is ", file_bytes, " bytes, shorter than the 8-byte header length"));

  unsigned char length_bytes[8];
  file.read(reinterpret_cast<char*>(length_bytes), 8);
  const uint64_t header_bytes = read_le_u64(length_bytes);
  if (header_bytes > file_bytes - 8)
    fail(path, str("header length ", header_bytes, " is larger than the ", file_bytes - 8,
                   " bytes that follow it (is the file truncated?)"));
  if (header_bytes > kMaxHeaderBytes)
    fail(path, str("header length ", header_bytes, " exceeds the limit of ", kMaxHeaderBytes, " bytes"));
  std::string text(header_bytes, '\0');
  if (!file.read(text.data(), static_cast<std::streamsize>(header_bytes)))
    fail(path, str("reading the header failed: ", os_error()));

  SafetensorsContents contents;
  contents.path = path;
  std::vector<Entry> entries;
  const Json header = parse_header(path, text);
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey)
      contents.metadata = parse_metadata(path, value);
    else
      entries.push_back(parse_entry(path, key, value));
  }
  const uint64_t data_start = 8 + header_bytes;
  check_coverage(path, entries, file_bytes - data_start);

  // The ranges tile the data section in order, so one sequential pass reads every tensor.
  for (const Entry& e : entries) {
    char* destination;
    if (e.dtype == "F32") {
      contents.tensors.emplace_back(e.name, Tensor::empty(e.shape));
      destination = reinterpret_cast<char*>(contents.tensors.back().second.data());
    } else {
      contents.int_tensors.emplace_back(e.name, IntTensor(e.shape));
      destination = reinterpret_cast<char*>(contents.int_tensors.back().second.data());
    }
    if (e.end > e.begin && !file.read(destination, static_cast<std::streamsize>(e.end - e.begin)))
      fail(path, str("reading tensor '", e.name, "' failed: ", os_error()));
  }
  return contents;
}

const Tensor& SafetensorsContents::tensor(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  for (const auto& entry : int_tensors)
    if (entry.first == name) fail(path, str("tensor '", name, "' is I32, expected F32"));
  fail(path, str("no tensor named '", name, "'"));
}

const IntTensor& SafetensorsContents::int_tensor(const std::string& name) const {
  for (const auto& [n, t] : int_tensors)
    if (n == name) return t;
  for (const auto& entry : tensors)
    if (entry.first == name) fail(path, str("tensor '", name, "' is F32, expected I32"));
  fail(path, str("no tensor named '", name, "'"));
}

void load_named_tensors(const NamedTensors& destination, const SafetensorsContents& file, bool strict) {
  std::map<std::string, const Tensor*> available;
  for (const auto& [name, t] : file.tensors) available[name] = &t;
  std::set<std::string> int_names;
  for (const auto& entry : file.int_tensors) int_names.insert(entry.first);

  // Check everything first, so that a failed load leaves every destination as it was.
  std::vector<std::pair<const Tensor*, const Tensor*>> copies;  // (destination, source)
  std::vector<std::string> missing;
  std::set<std::string> wanted;
  for (const auto& [name, t] : destination) {
    wanted.insert(name);
    check(t.defined(), "load_named_tensors: destination tensor '", name, "' is undefined");
    auto found = available.find(name);
    if (found == available.end()) {
      if (int_names.count(name)) fail(file.path, str("tensor '", name, "' is I32 in the file, expected F32"));
      missing.push_back(name);
      continue;
    }
    const Tensor& source = *found->second;
    if (source.shape() != t.shape())
      fail(file.path, str("tensor '", name, "' has shape ", shape_str(source.shape()),
                          " in the file, expected ", shape_str(t.shape())));
    copies.emplace_back(&t, &source);
  }
  if (strict) {
    std::vector<std::string> unexpected;
    for (const auto& entry : file.tensors)
      if (!wanted.count(entry.first)) unexpected.push_back(entry.first);
    for (const auto& entry : file.int_tensors)
      if (!wanted.count(entry.first)) unexpected.push_back(entry.first);
    auto join = [](const std::vector<std::string>& names) {
      std::string joined;
      for (const std::string& n : names) joined += (joined.empty() ? "'" : ", '") + n + "'";
      return joined;
    };
    if (!missing.empty() || !unexpected.empty())
      fail(file.path,
           str("the names do not match (strict load):",
               missing.empty() ? "" : str(" missing from the file: ", join(missing), ";"),
               unexpected.empty() ? "" : str(" in the file but not expected: ", join(unexpected), ";")));
  }
  for (const auto& [to, from] : copies)
    if (from->numel() > 0)
      std::memcpy(to->data(), from->data(), static_cast<size_t>(from->numel()) * sizeof(float));
}

}  // namespace pg
