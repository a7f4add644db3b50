"""PyTorch CPU reference for bench/engine.ts: the same Qwen3 `small` model, batch and loss.

    /usr/bin/python3 bench/engine.py [threads]       (Debian's python3-torch)

Prints one JSON line: seconds per training step (forward + backward of the REINFORCE loss over
8×256 tokens, all parameter gradients), model GFLOP/s with the same FLOP count as engine.ts, and
torch's own matmul rate on the model's largest GEMM shape measured in the same run.
"""
import json
import math
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
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


def step():
    model.zero_grad(set_to_none=True)
    logp = model(tokens).log_softmax(-1).gather(-1, tokens[:, 1:, None])[..., 0]
    loss = (-(adv[:, None] * logp) * loss_mask).sum(1).div(T / 2).mean()
    loss.backward()


sec, cpu = median_time(step, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
a, b = torch.randn(B * T, C), torch.randn(C, I)
mm, mm_cpu = median_time(lambda: a @ b, 20)
print(json.dumps({
    "torch": torch.__version__,
    "threads": threads,
    "secPerStep": sec,
    "cpuPerStep": cpu,
    "modelGflops": flops() / sec / 1e9,
    "modelGflopsCpu": flops() / cpu / 1e9,
    "matmulGflops": 2 * B * T * C * I / mm / 1e9,
    "matmulGflopsCpu": 2 * B * T * C * I / mm_cpu / 1e9,
}))
