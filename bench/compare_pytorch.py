#!/usr/bin/env python3
"""Runs our kernel benchmarks and their PyTorch twins (bench/pytorch_kernels.py) in one go, at
the same thread count, and prints a Markdown table of median times and the ratio ours / PyTorch
(below 1.0: we are faster). Needs `make bench-build` first and Debian's python3-torch:
    /usr/bin/python3 bench/compare_pytorch.py --threads 2"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Our benchmark name → the shared case name of bench/pytorch_kernels.py.
OURS = {
    "bench_conv": lambda name: name.replace("conv_forward_backward/", "").replace("conv_forward/", "")
    + ("/fwdbwd" if name.startswith("conv_forward_backward/") else "/fwd"),
    "bench_resize": lambda name: {
        "BM_ResizeBilinearX4Forward": "bilinear_x4_16to64_64ch/fwd",
        "BM_ResizeBilinearX4ForwardBackward": "bilinear_x4_16to64_64ch/fwdbwd",
    }.get(name),
}


def run_ours(build, threads, repetitions):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    times = {}
    for program, to_case in OURS.items():
        path = os.path.join(ROOT, build, "bench", program)
        if not os.path.exists(path):
            sys.exit(f"compare_pytorch: {path} is missing; run `make bench-build` first")
        out = subprocess.run([path, "--benchmark_format=json", f"--benchmark_repetitions={repetitions}",
                              "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.2"],
                             env=env, check=True, capture_output=True, text=True).stdout
        for b in json.loads(out)["benchmarks"]:
            if b.get("aggregate_name") != "median":
                continue
            case = to_case(b["run_name"].removesuffix("/real_time"))
            if case:
                scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6, "s": 1e3}[b["time_unit"]]
                times[case] = b["real_time"] * scale
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--build", default="build/release")
    args = parser.parse_args()

    ours = run_ours(args.build, args.threads, args.repetitions)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    torch_out = subprocess.run([sys.executable, os.path.join(HERE, "pytorch_kernels.py"), "--threads",
                                str(args.threads)], env=env, check=True, capture_output=True, text=True).stdout
    torch_result = json.loads(torch_out)
    theirs = torch_result["ms"]

    print(f"threads: {args.threads}, PyTorch {torch_result['torch']}, medians in ms, ratio = ours / PyTorch\n")
    print("| case | pass | pixelgrad ms | PyTorch ms | ratio |")
    print("|---|---|---|---|---|")
    for case in theirs:
        if case in ours:
            name, kind = case.rsplit("/", 1)
            print(f"| {name} | {kind} | {ours[case]:.2f} | {theirs[case]:.2f} | {ours[case] / theirs[case]:.2f} |")


if __name__ == "__main__":
    main()
