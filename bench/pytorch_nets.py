#!/usr/bin/env python3
"""Times the PyTorch twins (tools/reference/*.py) of the tiny nets in nets/registry.cpp at the
tiny configurations the registry builds, as bench/bench_nets.cpp times ours: batch 8, 3x64x64,
6 classes;
  train:   zero_grad + forward + cross-entropy of the logits (no auxiliary losses) + backward +
           SGD step (lr 1e-4, momentum 0.9), training mode;
  forward: eval mode under torch.no_grad().
Median ms of --repeats runs after warm-up, with torch.set_num_threads(--threads). Peak RSS is the
process's ru_maxrss, so each (net, mode) runs in a process of its own; "import_rss_mb" is the
resident set right after `import torch` (the interpreter and libtorch, before any net exists).
    /usr/bin/python3 bench/pytorch_nets.py --threads 2                  (every net, JSON)
    /usr/bin/python3 bench/pytorch_nets.py --threads 2 --net unet --mode train"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

IMPORT_RSS_MB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools", "reference"))

import deeplab_v3  # noqa: E402  (after the path above)
import deeplab_v3plus  # noqa: E402
import deeplab_v3plus_xception  # noqa: E402
from dilation import DilationNet  # noqa: E402
from fcn import FCN  # noqa: E402
from patch_cnn import PatchCnn  # noqa: E402
from pspnet import PSPNet  # noqa: E402
from refinenet import LIGHT_WEIGHT as REFINENET_LIGHT_WEIGHT  # noqa: E402
from refinenet import TINY as REFINENET_TINY  # noqa: E402
from refinenet import RefineNet  # noqa: E402
from segnet import SegNet  # noqa: E402
from unet import UNet  # noqa: E402
from upernet import UperNet  # noqa: E402

CLASSES = 6
FCN_TINY = dict(widths=(8, 16, 32, 32, 32), convs=(2, 2, 2, 2, 2), fc=64, fc6_kernel=3, same=True)
DILATION_FRONTEND_TINY = dict(widths=(8, 16, 32, 32, 32), convs=(2, 2, 2, 2, 2), fc=64)
UPERNET_TINY = dict(blocks=(2, 2, 2, 2), widths=(8, 16, 32, 64), stem=8, channels=32, texture_channels=16)

# Registry name → the twin at the tiny configuration of nets/<net>.cpp (each twin script's own
# "-tiny" parameter-count line builds the same; compare_pytorch.py checks the counts agree).
# DeepLab v1 and v2 are not here yet: their twins have no tiny configuration to build.
TWINS = {
    "patch-cnn": lambda: PatchCnn(CLASSES, 17, (16, 32), (4, 4), (64,)),
    "fcn32s": lambda: FCN("32s", CLASSES, **FCN_TINY),
    "fcn16s": lambda: FCN("16s", CLASSES, **FCN_TINY),
    "fcn8s": lambda: FCN("8s", CLASSES, **FCN_TINY),
    "fcn8s-atonce": lambda: FCN("8s", CLASSES, at_once=True, **FCN_TINY),
    "unet": lambda: UNet(CLASSES, base=8, depth=3, padded=True, batch_norm=True),
    "segnet": lambda: SegNet(CLASSES, channels=(16, 32, 64), convs=(2, 2, 2)),
    "dilation": lambda: DilationNet(CLASSES, frontend=DILATION_FRONTEND_TINY, dilations=(1, 1, 2, 4)),
    "dilation-frontend": lambda: DilationNet(CLASSES, frontend=DILATION_FRONTEND_TINY, with_context=False),
    "refinenet": lambda: RefineNet(CLASSES, **REFINENET_TINY),
    "refinenet-lw": lambda: RefineNet(CLASSES, **REFINENET_TINY, **REFINENET_LIGHT_WEIGHT),
    "pspnet": lambda: PSPNet(CLASSES, blocks=(2, 2, 2, 2), widths=(8, 16, 32, 64), stem=8, channels=64,
                             aux_channels=32),
    "deeplabv3": lambda: deeplab_v3.tiny(CLASSES),
    "upernet": lambda: UperNet(CLASSES, **UPERNET_TINY),
    "upernet-multitask": lambda: UperNet(CLASSES, scenes=4, parts=2, materials=5, textures=4, **UPERNET_TINY),
    "deeplabv3plus": lambda: deeplab_v3plus.on_resnet(deeplab_v3.resnet_tiny(8), CLASSES, schedule=(8, (1, 2, 3)),
                                                      aspp_channels=32, projection=8, decoder_channels=32),
    "deeplabv3plus-xception": lambda: deeplab_v3plus_xception.tiny(CLASSES),
}


def median_ms(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def measure(name, mode, repeats, warmup):
    torch.manual_seed(1)
    net = TWINS[name]()
    images = torch.rand(8, 3, 64, 64) * 2 - 1
    labels = torch.randint(0, CLASSES, (8, 64, 64))
    if mode == "train":
        net.train()
        sgd = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=1e-4, momentum=0.9)

        def step():
            sgd.zero_grad()
            F.cross_entropy(net(images), labels, ignore_index=255).backward()
            sgd.step()
    else:
        net.eval()

        def step():
            with torch.no_grad():
                net(images)
    ms = median_ms(step, repeats, warmup)
    return {"ms": ms, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "import_rss_mb": IMPORT_RSS_MB, "params": sum(p.numel() for p in net.parameters())}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--net", choices=sorted(TWINS), help="one net in this process (default: each in its own)")
    parser.add_argument("--mode", choices=("train", "forward"), default="train")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--list", action="store_true", help="print the nets that have a twin")
    args = parser.parse_args()
    if args.list:
        print("\n".join(TWINS))
        return
    torch.set_num_threads(args.threads)
    if args.net:
        print(json.dumps(measure(args.net, args.mode, args.repeats, args.warmup)))
        return
    results = {}
    for name in TWINS:
        for mode in ("train", "forward"):
            out = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), "--net", name, "--mode",
                                  mode, "--repeats", str(args.repeats), "--warmup", str(args.warmup)],
                                 check=True, capture_output=True, text=True).stdout
            results[f"{name}/{mode}"] = json.loads(out)
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "nets": results}, indent=1))


if __name__ == "__main__":
    main()
