"""PyTorch CPU reference for bench/engine.ts: the same Qwen3 `small` model, batch, loss and optimiser.

    /usr/bin/python3 bench/engine.py [threads] [repeats]   one JSON line (medians)
    /usr/bin/python3 bench/engine.py [threads] --serve     one JSON line per "step" read on stdin

A training step is forward + backward of the REINFORCE loss over 8×256 tokens (all parameter
gradients), then clip_grad_norm_(1.0) and torch.optim.AdamW (β 0.9/0.95, ε 1e-8, weight decay 0,
torch's default implementation) — what spiral's learner does per update. Timed apart: `grad` (forward
+ backward) and `optim` (clip + AdamW). Also torch's own matmul rate on the model's largest GEMM.

Refuses to run when the BLAS that torch loaded is not an optimised one (Debian's python3-torch
links the generic libblas.so.3, which is the ~50× slower reference BLAS unless an optimised one
such as libopenblas0-pthread is installed); SPIRAL_ALLOW_SLOW_BLAS=1 runs anyway with a warning.
"""
import json
import math
import os
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
serve = "--serve" in sys.argv
torch.set_num_threads(threads)

OPTIMISED_BLAS = ("openblas", "mkl", "blis")


def loaded_blas():
    """The BLAS libraries mapped into this process (after a matmul has loaded them)."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    with open("/proc/self/maps") as maps:
        libs = {line.split()[-1] for line in maps if "blas" in line or "mkl" in line}
    return sorted(libs)


blas = loaded_blas()
if not any(name in lib for lib in blas for name in OPTIMISED_BLAS):
    message = f"PyTorch's BLAS is not an optimised one (loaded: {blas or 'none found'}); install libopenblas0-pthread"
    if os.environ.get("SPIRAL_ALLOW_SLOW_BLAS") != "1":
        print(f"refusing to benchmark: {message} (SPIRAL_ALLOW_SLOW_BLAS=1 runs anyway)", file=sys.stderr)
        sys.exit(3)
    print(f"WARNING: {message}; its figures are not a fair reference", file=sys.stderr)
torch.manual_seed(0)

V, C, I, L, H, KV, D = 264, 512, 1536, 8, 8, 4, 64  # modelPresets.small
EPS, THETA = 1e-6, 10000.0
B, T = 8, 256


def rms_norm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rotate_half(x):
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return torch.cat((-x2, x1), dim=-1)


class Qwen3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        p = lambda *s: torch.nn.Parameter(torch.randn(*s) * 0.02)
        self.embed = p(V, C)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.Module()
            m.ln1, m.ln2 = torch.nn.Parameter(torch.ones(C)), torch.nn.Parameter(torch.ones(C))
            m.q, m.k, m.v, m.o = p(H * D, C), p(KV * D, C), p(KV * D, C), p(C, H * D)
            m.qn, m.kn = torch.nn.Parameter(torch.ones(D)), torch.nn.Parameter(torch.ones(D))
            m.gate, m.up, m.down = p(I, C), p(I, C), p(C, I)
            self.layers.append(m)
        self.norm = torch.nn.Parameter(torch.ones(C))

    def forward(self, tokens):
        pos = torch.arange(T, dtype=torch.float32)
        inv = 1.0 / (THETA ** (torch.arange(0, D, 2, dtype=torch.float32) / D))
        ang = torch.outer(pos, inv)
        emb = torch.cat((ang, ang), -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed[tokens]
        for m in self.layers:
            h = rms_norm(x, m.ln1)
            q = rms_norm((h @ m.q.T).view(B, T, H, D), m.qn).transpose(1, 2)
            k = rms_norm((h @ m.k.T).view(B, T, KV, D), m.kn).transpose(1, 2)
            v = (h @ m.v.T).view(B, T, KV, D).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(H // KV, dim=1)
            v = v.repeat_interleave(H // KV, dim=1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(D) + mask
            a = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * D)
            x = x + a @ m.o.T
            h2 = rms_norm(x, m.ln2)
            x = x + (torch.nn.functional.silu(h2 @ m.gate.T) * (h2 @ m.up.T)) @ m.down.T
        x = rms_norm(x, self.norm)
        return x[:, :-1] @ self.embed.T


def flops():
    n = L * (C * H * D * 2 + C * KV * D * 2 + 3 * C * I) + V * C
    return 6 * n * B * T + 12 * B * T * T * H * D * L


def median_time(fn, repeats):
    """(median wall seconds, median process CPU seconds over all threads) per call."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]


model = Qwen3()
tokens = torch.randint(0, V, (B, T))
adv = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(B)])
loss_mask = torch.zeros(B, T - 1)
loss_mask[:, T // 2 - 1 :] = 1


optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)


def grad():
    model.zero_grad(set_to_none=True)
    logp = model(tokens).log_softmax(-1).gather(-1, tokens[:, 1:, None])[..., 0]
    loss = (-(adv[:, None] * logp) * loss_mask).sum(1).div(T / 2).mean()
    loss.backward()


def optim():
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimiser.step()


def timed_step():
    """(wall, CPU) seconds of grad and of optim for one training step."""
    t0, c0 = time.perf_counter(), time.process_time()
    grad()
    t1, c1 = time.perf_counter(), time.process_time()
    optim()
    t2, c2 = time.perf_counter(), time.process_time()
    return {"grad": t1 - t0, "gradCpu": c1 - c0, "optim": t2 - t1, "optimCpu": c2 - c1}


def median(xs):
    return sorted(xs)[len(xs) // 2]


a, b = torch.randn(B * T, C), torch.randn(C, I)
header = {"torch": torch.__version__, "threads": threads, "blas": blas, "flops": flops(), "matmulFlops": 2 * B * T * C * I}
timed_step()  # warm-up: allocations, the optimiser's state
if serve:
    print(json.dumps({**header, "ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() == "step":
            print(json.dumps(timed_step()), flush=True)
        elif line.strip() == "matmul":
            mm, mm_cpu = median_time(lambda: a @ b, 20)
            print(json.dumps({"matmul": mm, "matmulCpu": mm_cpu}), flush=True)
    sys.exit(0)

steps = [timed_step() for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3)]
sec = median([s["grad"] + s["optim"] for s in steps])
cpu = median([s["gradCpu"] + s["optimCpu"] for s in steps])
mm, mm_cpu = median_time(lambda: a @ b, 20)
print(json.dumps({
    **header,
    "secPerStep": sec,
    "cpuPerStep": cpu,
    "gradSec": median([s["grad"] for s in steps]),
    "optimSec": median([s["optim"] for s in steps]),
    "modelGflops": flops() / sec / 1e9,
    "modelGflopsCpu": flops() / cpu / 1e9,
    "matmulGflops": 2 * B * T * C * I / mm / 1e9,
    "matmulGflopsCpu": 2 * B * T * C * I / mm_cpu / 1e9,
}))
