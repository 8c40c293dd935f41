"""The PyTorch side of `scripts/gpu-check.sh`: the same models era trains, timed in PyTorch (eager, f32)
on the device at hand, to put era's figures beside a framework's on the same machine.

    python3 native/peers/torch_peers.py resnet18 --batch 128 --steps 10 --repeats 3 [--device cuda|cpu]
    python3 native/peers/torch_peers.py small-cnn --batch 64 --steps 10 --repeats 3 [--device …]
    python3 native/peers/torch_peers.py qwen2 --shape qwen2.5-0.5b --rows 128 --width 40 --steps 3 [--device …]
    python3 native/peers/torch_peers.py qwen2-generate --shape qwen2.5-0.5b --rows 16 --prompt-len 9 --new 24

`resnet18`: ResNet-18 with the CIFAR stem (one 3×3 convolution, no pooling), as `era train vision
--model resnet18` builds it, on random 3×32×32 images over 10 classes; SGD with momentum 0.9 and weight
decay 5e-4, cross-entropy. Prints `<rate> images/s` (median of the repeats). `small-cnn`: era's small
CNN (two 3×3 "same" convolutions of 32 and 64 channels, each with ReLU and 2×2 max-pooling, a
128-wide hidden layer) on random 1×28×28 images, trained the same way.

`qwen2`: the Qwen2 architecture (RMSNorm, grouped-query attention with RoPE and q/k/v biases, SwiGLU
MLP, tied embeddings) of the named shape with random weights; one forward and backward of the mean
token log-likelihood over `rows × width` random tokens and an AdamW step, as a GRPO update does on a
packed rollout. Prints `<seconds> s/update` (median of the repeats). `qwen2-generate`: the same model
samples `--new` tokens (temperature 1, no stop) for each of `rows` random prompts of `--prompt-len`
tokens at once, with a key/value cache grown by concatenation as Hugging Face's eager cache does, under
`torch.inference_mode`. Prints `<rate> tokens/s` (median of the repeats).

Before its figure each prints `peak_rss_mib <MiB>`: the process's peak resident memory (CPU; on a GPU
the device's peak allocation is printed as `peak_gpu_mib`).

`--compile` wraps the model in `torch.compile` (Inductor; on a CPU it needs a C++ compiler): the
first, untimed calls compile it, so the figure is the compiled step's. `--json FILE` also writes the
figure as one part of gpu-check's report.

Written from the architectures' published descriptions; only PyTorch itself is needed (no
torchvision, no transformers), so that a GPU server's own PyTorch runs it as it is.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The published configuration of Qwen/Qwen2.5-0.5B, and the embedded tiny model's (as era's
# `published_shape` names them).
SHAPES = {
    "qwen2.5-0.5b": dict(vocab=151936, hidden=896, inter=4864, layers=24, heads=14, kv_heads=2, theta=1e6),
    "tiny": dict(vocab=16, hidden=128, inter=512, layers=4, heads=4, kv_heads=2, theta=1e4),
}


def seconds_per_step(step, args, device, warmup):
    """Median over `args.repeats` of the time per call of `step`, timed over `args.steps` calls after
    `warmup` untimed ones; the device is synchronised before each clock read."""

    def run(n):
        for _ in range(n):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    run(warmup)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run(args.steps)
        times.append((time.perf_counter() - start) / args.steps)
    return statistics.median(times)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64))
        blocks, cin = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(512, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem(x)))
        return self.head(x.mean(dim=(2, 3)))


class SmallCnn(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.hidden = nn.Linear(64 * 7 * 7, 128)
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(F.relu(self.hidden(x.flatten(1))))


def small_cnn(args, device):
    return classifier(args, device, SmallCnn(), (1, 28, 28), lr=0.01)


def resnet18(args, device):
    return classifier(args, device, ResNet18(), (3, 32, 32), lr=0.1)


def compiled(model, args):
    return torch.compile(model) if args.compile else model


def classifier(args, device, model, shape, lr):
    torch.manual_seed(0)
    model = model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    model = compiled(model, args)
    x = torch.randn(args.batch, *shape, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    rate = args.batch / seconds_per_step(step, args, device, warmup=2)
    print(f"{rate:.3f} images/s")
    return {"train": {"value": rate, "unit": "images/s"}}


class RmsNorm(nn.Module):
    def __init__(self, n, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, theta, start=0):
    # x: [batch, heads, time, head_dim], positions from `start`; rotates the two halves of each head
    # (Qwen2's layout).
    t, d = x.shape[-2], x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)
    angles = torch.outer(torch.arange(start, start + t, device=x.device, dtype=torch.float32), inv)
    cos, sin = torch.cat([angles.cos()] * 2, -1), torch.cat([angles.sin()] * 2, -1)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Layer(nn.Module):
    def __init__(self, s):
        super().__init__()
        h, self.heads, self.kv, self.theta = s["hidden"], s["heads"], s["kv_heads"], s["theta"]
        self.hd = h // self.heads
        self.q = nn.Linear(h, h)
        self.k = nn.Linear(h, self.kv * self.hd)
        self.v = nn.Linear(h, self.kv * self.hd)
        self.o = nn.Linear(h, h, bias=False)
        self.gate = nn.Linear(h, s["inter"], bias=False)
        self.up = nn.Linear(h, s["inter"], bias=False)
        self.down = nn.Linear(s["inter"], h, bias=False)
        self.norm1, self.norm2 = RmsNorm(h), RmsNorm(h)

    def forward(self, x, cache=None):
        # `cache`: this layer's (keys, values) of the earlier positions, or None; when given, it is
        # replaced by the grown one.
        b, t, h = x.shape
        start = cache[0].shape[2] if cache else 0
        n = self.norm1(x)
        q = self.q(n).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k(n).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = self.v(n).view(b, t, self.kv, self.hd).transpose(1, 2)
        q, k = rope(q, self.theta, start), rope(k, self.theta, start)
        if cache is not None:
            if start:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[:] = [k, v]
        rep = self.heads // self.kv
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        # One new position attends to every cached one; a prompt is causal.
        a = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, h))
        n = self.norm2(x)
        return x + self.down(F.silu(self.gate(n)) * self.up(n))


class Qwen2(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.embed = nn.Embedding(s["vocab"], s["hidden"])
        nn.init.normal_(self.embed.weight, std=0.02)
        self.layers = nn.ModuleList(Layer(s) for _ in range(s["layers"]))
        self.norm = RmsNorm(s["hidden"])

    def forward(self, ids, caches=None):
        x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, None if caches is None else caches[i])
        return self.norm(x) @ self.embed.weight.T


def shape(args):
    s = SHAPES[args.shape]
    if args.config:
        # A Hugging Face Qwen2 config.json (as `era bench llm --against torch` writes its model's).
        with open(args.config) as f:
            c = json.load(f)
        s = dict(vocab=c["vocab_size"], hidden=c["hidden_size"], inter=c["intermediate_size"],
                 layers=c["num_hidden_layers"], heads=c["num_attention_heads"],
                 kv_heads=c["num_key_value_heads"], theta=c.get("rope_theta", 1e4))
    return s


def print_peak(device):
    if device.type == "cuda":
        print(f"peak_gpu_mib {torch.cuda.max_memory_allocated(device) / 2**20:.1f}")
        return
    # The process's own high-water mark (VmHWM). Not getrusage's ru_maxrss: Linux carries that across
    # fork and exec, so it would report the (larger) process that started this one.
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print(f"peak_rss_mib {kib / 1024:.1f}")


def qwen2(args, device):
    torch.manual_seed(0)
    s = shape(args)
    model = Qwen2(s).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    model = compiled(model, args)
    ids = torch.randint(0, s["vocab"], (args.rows, args.width), device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        logp = F.log_softmax(model(ids[:, :-1]), -1)
        (-logp.gather(-1, ids[:, 1:, None]).mean()).backward()
        opt.step()

    seconds = seconds_per_step(step, args, device, warmup=1)
    print_peak(device)
    print(f"{seconds:.6f} s/update")
    return {"update_time": {"value": seconds, "unit": "s/update"}}


def qwen2_generate(args, device):
    torch.manual_seed(0)
    s = shape(args)
    model = Qwen2(s).to(device).eval()
    # Positions vary in number as the cache grows: compiled for dynamic shapes, not once per length.
    model = torch.compile(model, dynamic=True) if args.compile else model
    prompts = torch.randint(0, s["vocab"], (args.rows, args.prompt_len), device=device)

    @torch.inference_mode()
    def step():
        caches = [[] for _ in range(s["layers"])]
        logits = model(prompts, caches)[:, -1]
        for _ in range(args.new):
            token = torch.multinomial(F.softmax(logits, -1), 1)
            logits = model(token, caches)[:, -1]

    rate = args.rows * args.new / seconds_per_step(step, args, device, warmup=1)
    print_peak(device)
    print(f"{rate:.3f} tokens/s")
    return {"generation": {"value": rate, "unit": "tokens/s"}}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", choices=["small-cnn", "resnet18", "qwen2", "qwen2-generate"])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--shape", choices=sorted(SHAPES), default="qwen2.5-0.5b")
    p.add_argument("--config", help="qwen2: the shape from a Qwen2 config.json instead of --shape")
    p.add_argument("--rows", type=int, default=128)
    p.add_argument("--width", type=int, default=40)
    p.add_argument("--prompt-len", type=int, default=9, help="qwen2-generate: tokens per prompt")
    p.add_argument("--new", type=int, default=24, help="qwen2-generate: tokens sampled per prompt")
    p.add_argument("--compile", action="store_true", help="wrap the model in torch.compile")
    p.add_argument("--json", help="also write the figure as a gpu-check part to this file")
    args = p.parse_args()
    # f32 throughout, as era computes: no TF32 on the matrix products.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device(args.device)
    models = {"small-cnn": small_cnn, "resnet18": resnet18, "qwen2": qwen2, "qwen2-generate": qwen2_generate}
    figures = models[args.model](args, device)
    if args.json:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
        settings = {k: v for k, v in vars(args).items() if k not in ("json", "model")}
        part = {
            "command": f"torch {args.model}",
            "backend": f"torch {torch.__version__} ({device.type}{', torch.compile' if args.compile else ''})",
            "device": name,
            "gpu": device.type == "cuda",
            "settings": settings,
            "figures": figures,
            "checks": {},
        }
        with open(args.json, "w") as f:
            json.dump(part, f, indent=2)


if __name__ == "__main__":
    main()
