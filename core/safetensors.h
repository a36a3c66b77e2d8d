// safetensors files: 8 bytes of little-endian header length, a JSON header naming each tensor's
// dtype, shape and [begin, end) byte range, then the raw little-endian data. Readable from
// PyTorch and NumPy without pickle. Writes go to a temporary file renamed into place (atomic).
// Malformed files are rejected with an error naming the file and the defect.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace pg {

using NamedIntTensors = std::vector<std::pair<std::string, IntTensor>>;

struct SafetensorsContents {
  NamedTensors tensors;          // dtype F32
  NamedIntTensors int_tensors;   // dtype I32 (labels, indices)
  std::map<std::string, std::string> metadata;  // the header's "__metadata__"
  const Tensor& tensor(const std::string& name) const;        // error naming the file when absent
  const IntTensor& int_tensor(const std::string& name) const;
  std::string path;  // where it was read from, for messages
};

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      const NamedIntTensors& int_tensors = {});
SafetensorsContents load_safetensors(const std::string& path);

// Copies the file's tensors into existing ones of the same name (a module's state_dict()),
// checking every shape. strict: a name missing on either side is an error.
void load_named_tensors(const NamedTensors& destination, const SafetensorsContents& file, bool strict = true);

}  // namespace pg
