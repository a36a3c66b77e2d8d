#!/usr/bin/env python3
"""Times the PERFORMANCE.md kernel shapes in PyTorch (fp32, NCHW, batch 8), forward and
forward+backward, median of several runs, and prints one JSON object {name: milliseconds}.
The names match bench/bench_conv.cpp and bench/bench_resize.cpp; bench/compare_pytorch.py
runs this and our benchmarks side by side. Run with Debian's interpreter: /usr/bin/python3."""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def conv_case(cin, cout, size, kernel=3, dilation=1, groups=1):
    x = torch.randn(8, cin, size, size, requires_grad=True)
    w = torch.randn(cout, cin // groups, kernel, kernel, requires_grad=True)
    pad = dilation * (kernel - 1) // 2
    forward = lambda: F.conv2d(x, w, padding=pad, dilation=dilation, groups=groups)
    return forward, [x, w]


def separable_case(channels, size):
    x = torch.randn(8, channels, size, size, requires_grad=True)
    wd = torch.randn(channels, 1, 3, 3, requires_grad=True)
    wp = torch.randn(channels, channels, 1, 1, requires_grad=True)
    forward = lambda: F.conv2d(F.conv2d(x, wd, padding=1, groups=channels), wp)
    return forward, [x, wd, wp]


def bilinear_case():
    x = torch.randn(8, 64, 16, 16, requires_grad=True)
    forward = lambda: F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False)
    return forward, [x]


CASES = {
    "conv3x3_64to64_64x64": lambda: conv_case(64, 64, 64),
    "conv3x3_256to256_16x16": lambda: conv_case(256, 256, 16),
    "dilated3x3_d2_64to64_32x32": lambda: conv_case(64, 64, 32, dilation=2),
    "dilated3x3_d12_64to64_32x32": lambda: conv_case(64, 64, 32, dilation=12),
    "depthwise3x3_128ch_32x32": lambda: conv_case(128, 128, 32, groups=128),
    "pointwise1x1_128to128_32x32": lambda: conv_case(128, 128, 32, kernel=1),
    "separable3x3_128ch_32x32": lambda: separable_case(128, 32),
    "bilinear_x4_16to64_64ch": bilinear_case,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = {}
    for name, make in CASES.items():
        forward, inputs = make()
        with torch.no_grad():
            results[name + "/fwd"] = median_ms(forward, args.repeats)

        def forward_backward():
            for t in inputs:
                t.grad = None
            out = forward()
            out.backward(torch.ones_like(out))

        results[name + "/fwdbwd"] = median_ms(forward_backward, args.repeats)
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "ms": results}))


if __name__ == "__main__":
    main()
