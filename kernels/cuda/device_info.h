// Device discovery for CUDA=1 builds (kernels/cuda/device_info.cu). Without CUDA=1 this header
// is not used: PG_CUDA is undefined and the CPU kernels run alone.
#pragma once
#include <string>

namespace pg::cuda {

std::string describe_devices();  // "CUDA: 1 device(s)\n  0: NVIDIA H100 ..."

}  // namespace pg::cuda
