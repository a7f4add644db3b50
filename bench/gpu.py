"""PyTorch CUDA reference for bench/gpu.sh: the engine's step and decode benches on the same shapes.

    python3 bench/gpu.py '{"V":264,"C":512,"I":1536,"L":8,"H":8,"KV":4,"D":64}' fp32|bf16 B T 1,16,64 PROMPT NEW REPEATS

Prints one JSON line. step: one learner update, as bench/device.ts: forward + backward of the
REINFORCE loss over B×T tokens (second half of each row scored), all parameter gradients, global-norm
clip to 1 and AdamW (β 0.9/0.95), the loss read back. decode: a KV-cache
loop after a PROMPT-token prefill, NEW tokens per row, one multinomial draw per row per step whose ids
come back to the host (as the engine's sampler needs them), ms per decode step.
"""
import json
import math
import sys
import time

import torch

shape = json.loads(sys.argv[1])
dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[sys.argv[2]]
B, T = int(sys.argv[3]), int(sys.argv[4])
batches = [int(b) for b in sys.argv[5].split(",")]
PROMPT, NEW, REPEATS = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
V, C, I, L, H, KV, D = (shape[k] for k in ("V", "C", "I", "L", "H", "KV", "D"))
EPS, THETA = 1e-6, 10000.0
dev = torch.device("cuda")
torch.manual_seed(0)
torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, as on the WebGPU side


def rms_norm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rotate_half(x):
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rope(positions):
    inv = 1.0 / (THETA ** (torch.arange(0, D, 2, dtype=torch.float32, device=dev) / D))
    ang = positions.float()[..., None] * inv
    emb = torch.cat((ang, ang), -1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


class Qwen3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        p = lambda *s: torch.nn.Parameter(torch.randn(*s, device=dev, dtype=dtype) * 0.02)
        one = lambda n: torch.nn.Parameter(torch.ones(n, device=dev, dtype=dtype))
        self.embed = p(V, C)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.Module()
            m.ln1, m.ln2, m.qn, m.kn = one(C), one(C), one(D), one(D)
            m.q, m.k, m.v, m.o = p(H * D, C), p(KV * D, C), p(KV * D, C), p(C, H * D)
            m.gate, m.up, m.down = p(I, C), p(I, C), p(C, I)
            self.layers.append(m)
        self.norm = one(C)

    def layer(self, m, x, cos, sin, bias, cache=None, at=None):
        b, t, _ = x.shape
        h = rms_norm(x, m.ln1)
        q = rms_norm((h @ m.q.T).view(b, t, H, D), m.qn).transpose(1, 2)
        k = rms_norm((h @ m.k.T).view(b, t, KV, D), m.kn).transpose(1, 2)
        v = (h @ m.v.T).view(b, t, KV, D).transpose(1, 2)
        q = q * cos[:, None] + rotate_half(q) * sin[:, None]
        k = k * cos[:, None] + rotate_half(k) * sin[:, None]
        if cache is not None:
            ck, cv = cache
            ck[:, :, at : at + t] = k
            cv[:, :, at : at + t] = v
            k, v = ck[:, :, : at + t], cv[:, :, : at + t]
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D) + bias
        a = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, H * D)
        x = x + a @ m.o.T
        h2 = rms_norm(x, m.ln2)
        return x + (torch.nn.functional.silu(h2 @ m.gate.T) * (h2 @ m.up.T)) @ m.down.T

    def forward(self, tokens, caches=None, at=0):
        b, t = tokens.shape
        pos = torch.arange(at, at + t, device=dev).expand(b, t)
        cos, sin = rope(pos)
        S = at + t
        bias = torch.full((t, S), float("-inf"), device=dev).triu(at + 1).to(dtype)
        x = self.embed[tokens]
        for n, m in enumerate(self.layers):
            x = self.layer(m, x, cos, sin, bias, None if caches is None else caches[n], at)
        return rms_norm(x, self.norm) @ self.embed.T


def timed(fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1000


model = Qwen3()
tokens = torch.randint(0, V, (B, T), device=dev)
adv = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(B)], device=dev)
loss_mask = torch.zeros(B, T - 1, device=dev)
loss_mask[:, T // 2 - 1 :] = 1


opt = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)


def step():
    model.zero_grad(set_to_none=True)
    logp = model(tokens)[:, :-1].float().log_softmax(-1).gather(-1, tokens[:, 1:, None])[..., 0]
    loss = (-(adv[:, None] * logp) * loss_mask).sum(1).div(T / 2).mean()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    loss.item()  # the logged scalar comes back to the host, as the engine's does


step()
step_ms = sorted(timed(step) for _ in range(REPEATS))[REPEATS // 2]


@torch.no_grad()
def generate(b, new):
    caches = [(torch.zeros(b, KV, PROMPT + new, D, device=dev, dtype=dtype), torch.zeros(b, KV, PROMPT + new, D, device=dev, dtype=dtype)) for _ in range(L)]
    prompt = torch.randint(32, 127, (b, PROMPT), device=dev)
    logits = model(prompt, caches, 0)[:, -1]
    for j in range(new - 1):
        nxt = torch.multinomial(logits.float().softmax(-1), 1)
        nxt.cpu()  # the ids come back to the host every step, as the engine's sampler needs them
        logits = model(nxt, caches, PROMPT + j)[:, -1]


rows = []
for b in batches:
    generate(b, 4)
    prefill = min(timed(lambda: generate(b, 1)) for _ in range(2))
    whole = timed(lambda: generate(b, NEW))
    ms = (whole - prefill) / (NEW - 1)
    rows.append({"batch": b, "msPerStep": ms, "tokensPerSecond": b / (ms / 1000)})

print(json.dumps({"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "dtype": sys.argv[2], "step": {"B": B, "T": T, "msPerStep": step_ms, "tokensPerSecond": B * T / (step_ms / 1000)}, "decode": {"rows": rows}}))
