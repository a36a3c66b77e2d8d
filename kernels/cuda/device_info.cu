// The CUDA side of a CUDA=1 build: device discovery, so `pixelgrad info` can say what it sees.
// The CUDA twins of the CPU kernels join this folder, each checked against its CPU reference.
#include <cuda_runtime.h>

#include "kernels/cuda/device_info.h"

namespace pg::cuda {

std::string describe_devices() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return std::string("CUDA: no usable device (") + cudaGetErrorString(status) + ")";
  std::string text = "CUDA: " + std::to_string(count) + " device(s)";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, i);
    text += "\n  " + std::to_string(i) + ": " + prop.name + ", " +
            std::to_string(prop.totalGlobalMem >> 20) + " MiB, compute " + std::to_string(prop.major) + "." +
            std::to_string(prop.minor);
  }
  return text;
}

}  // namespace pg::cuda
