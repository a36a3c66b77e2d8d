#!/usr/bin/env python3
"""Runs our kernel benchmarks and their PyTorch twins (bench/pytorch_kernels.py) in one go, at
the same thread count, and prints a Markdown table of median times and the ratio ours / PyTorch
(below 1.0: we are faster). With --nets, the same for the tiny nets' training step and forward
(bench/bench_nets.cpp against bench/pytorch_nets.py), each net and pass in a process of its own
so that its peak RSS is its own. Needs `make bench-build` first and Debian's python3-torch:
    /usr/bin/python3 bench/compare_pytorch.py --threads 2            (kernels)
    /usr/bin/python3 bench/compare_pytorch.py --threads 2 --nets     (whole tiny nets)"""
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


def run_our_net(path, case, threads, repetitions):
    """{"ms", "peak_rss_mb", "params"} of bench_nets' case "NAME/train" or "NAME/forward", alone in its process."""
    out = subprocess.run([path, f"--benchmark_filter=^{case}/real_time$", "--benchmark_format=json",
                          f"--benchmark_repetitions={repetitions}", "--benchmark_min_time=0.5"],
                         env=dict(os.environ, OMP_NUM_THREADS=str(threads)), check=True, capture_output=True,
                         text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6, "s": 1e3}[runs[0]["time_unit"]]
    times = sorted(b["real_time"] * scale for b in runs)
    return {"ms": times[len(times) // 2], "peak_rss_mb": max(b["peak_RSS_MB"] for b in runs),
            "params": int(runs[0]["params"])}


def run_twin(name, mode, threads):
    """bench/pytorch_nets.py's figures for one net and pass, in its own process."""
    out = subprocess.run([sys.executable, os.path.join(HERE, "pytorch_nets.py"), "--threads", str(threads), "--net",
                          name, "--mode", mode], env=dict(os.environ, OMP_NUM_THREADS=str(threads)), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def compare_nets(args):
    """Ours and the twin one right after the other for each net and pass, so that both see the same
    load on a shared machine."""
    path = os.path.join(ROOT, args.build, "bench", "bench_nets")
    if not os.path.exists(path):
        sys.exit(f"compare_pytorch: {path} is missing; run `make bench-build` first")
    listed = subprocess.run([path, "--benchmark_list_tests=true"], check=True, capture_output=True,
                            text=True).stdout.split()
    twins = subprocess.run([sys.executable, os.path.join(HERE, "pytorch_nets.py"), "--list"], check=True,
                           capture_output=True, text=True).stdout.split()
    ours, theirs = {}, {}
    for case in (c.removesuffix("/real_time") for c in listed):
        name, mode = case.rsplit("/", 1)
        ours[case] = run_our_net(path, case, args.threads, args.repetitions)
        theirs[case] = run_twin(name, mode, args.threads) if name in twins else None
    version = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"], check=True,
                             capture_output=True, text=True).stdout.strip()
    import_rss = min(r["import_rss_mb"] for r in theirs.values() if r)
    print(f"threads: {args.threads}, PyTorch {version}, batch 8, 3x64x64, 6 classes; medians in ms, "
          f"ratio = ours / PyTorch; peak RSS in MB (PyTorch's includes ~{import_rss:.0f} MB of interpreter and "
          "libtorch after import)\n")
    print("| net | params | train ms ours | train ms PyTorch | ratio | fwd ms ours | fwd ms PyTorch | ratio "
          "| train peak RSS ours | train peak RSS PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in dict.fromkeys(case.rsplit("/", 1)[0] for case in ours):
        train, fwd = ours[f"{name}/train"], ours[f"{name}/forward"]
        their_train, their_fwd = theirs[f"{name}/train"], theirs[f"{name}/forward"]
        if their_train is None:
            print(f"| {name} | {train['params']:,} | {train['ms']:.1f} | no twin | | {fwd['ms']:.1f} | no twin | | "
                  f"{train['peak_rss_mb']:.0f} | |")
            continue
        params = f"{train['params']:,}" if train["params"] == their_train["params"] else \
            f"{train['params']:,} ≠ {their_train['params']:,}"
        print(f"| {name} | {params} | {train['ms']:.1f} | {their_train['ms']:.1f} | "
              f"{train['ms'] / their_train['ms']:.2f} | {fwd['ms']:.1f} | {their_fwd['ms']:.1f} | "
              f"{fwd['ms'] / their_fwd['ms']:.2f} | {train['peak_rss_mb']:.0f} | {their_train['peak_rss_mb']:.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--nets", action="store_true", help="the tiny nets instead of the kernels")
    args = parser.parse_args()
    if args.nets:
        compare_nets(args)
        return

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
