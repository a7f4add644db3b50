"""
Writes qwen3-numpy-port.json: logits of a small Qwen3 computed by a literal NumPy port of
transformers' modeling_qwen3.py (Qwen3RMSNorm, Qwen3RotaryEmbedding, rotate_half, repeat_kv,
eager_attention_forward, Qwen3MLP), as an independent check of src/engine/model/reference.ts.

Weights come from a closed formula both sides compute (no binary fixture): tensor k in layout
order, element j (row-major), rounded to float32:
  norm gains: 1 + 0.25 * sin(0.9 j + 1.7 k);   everything else: 0.5 * sin(0.7 j + 1.3 k + 0.1).
Run: python3 src/engine/model/testdata/qwen3-numpy-port.py   (needs numpy only)
"""
import json
import math
import os

import numpy as np

cfg = dict(vocab_size=32, hidden_size=16, intermediate_size=24, num_hidden_layers=2, num_attention_heads=4,
           num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False)
tokens = [3, 17, 0, 31, 8, 8, 21]
V, C, I, L = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
H, KV, D, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]

names = [("model.embed_tokens.weight", (V, C))]
for n in range(L):
    p = f"model.layers.{n}."
    names += [(p + "input_layernorm.weight", (C,)), (p + "self_attn.q_proj.weight", (H * D, C)),
              (p + "self_attn.k_proj.weight", (KV * D, C)), (p + "self_attn.v_proj.weight", (KV * D, C)),
              (p + "self_attn.o_proj.weight", (C, H * D)), (p + "self_attn.q_norm.weight", (D,)),
              (p + "self_attn.k_norm.weight", (D,)), (p + "post_attention_layernorm.weight", (C,)),
              (p + "mlp.gate_proj.weight", (I, C)), (p + "mlp.up_proj.weight", (I, C)), (p + "mlp.down_proj.weight", (C, I))]
names += [("model.norm.weight", (C,)), ("lm_head.weight", (V, C))]

W = {}
for k, (name, shape) in enumerate(names):
    j = np.arange(int(np.prod(shape)), dtype=np.float64)
    if name.endswith("norm.weight"):
        w = 1 + 0.25 * np.sin(0.9 * j + 1.7 * k)
    else:
        w = 0.5 * np.sin(0.7 * j + 1.3 * k + 0.1)
    W[name] = w.astype(np.float32).astype(np.float64).reshape(shape)


def rms_norm(x, w):  # Qwen3RMSNorm
    variance = (x ** 2).mean(-1, keepdims=True)
    return w * (x / np.sqrt(variance + eps))


def linear(x, w):  # nn.Linear without bias: x @ W^T
    return x @ w.T


# Qwen3RotaryEmbedding.compute_default_rope_parameters + forward, float32 like HF
inv_freq = (1.0 / (np.float32(cfg["rope_theta"]) ** (np.arange(0, D, 2, dtype=np.int64).astype(np.float32) / np.float32(D)))).astype(np.float32)
pos = np.arange(len(tokens), dtype=np.float32)
freqs = (inv_freq[:, None] @ pos[None, :]).T.astype(np.float32)  # [T, D/2]
emb = np.concatenate([freqs, freqs], axis=-1).astype(np.float64)
cos, sin = np.cos(emb), np.sin(emb)  # [T, D]


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return np.concatenate([-x2, x1], axis=-1)


def repeat_kv(x, n_rep):  # [KV, T, D] -> [KV*n_rep, T, D]
    kv, t, d = x.shape
    return np.broadcast_to(x[:, None], (kv, n_rep, t, d)).reshape(kv * n_rep, t, d)


T = len(tokens)
h = W["model.embed_tokens.weight"][tokens]  # [T, C]
mask = np.triu(np.full((T, T), -np.inf), 1)
for n in range(L):
    p = f"model.layers.{n}."
    residual = h
    x = rms_norm(h, W[p + "input_layernorm.weight"])
    q = rms_norm(linear(x, W[p + "self_attn.q_proj.weight"]).reshape(T, H, D), W[p + "self_attn.q_norm.weight"]).transpose(1, 0, 2)
    k = rms_norm(linear(x, W[p + "self_attn.k_proj.weight"]).reshape(T, KV, D), W[p + "self_attn.k_norm.weight"]).transpose(1, 0, 2)
    v = linear(x, W[p + "self_attn.v_proj.weight"]).reshape(T, KV, D).transpose(1, 0, 2)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    k, v = repeat_kv(k, H // KV), repeat_kv(v, H // KV)
    scores = q @ k.transpose(0, 2, 1) * D ** -0.5 + mask
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    attn = (probs @ v).transpose(1, 0, 2).reshape(T, H * D)
    h = residual + linear(attn, W[p + "self_attn.o_proj.weight"])
    residual = h
    x = rms_norm(h, W[p + "post_attention_layernorm.weight"])
    g = linear(x, W[p + "mlp.gate_proj.weight"])
    h = residual + linear((g / (1 + np.exp(-g))) * linear(x, W[p + "mlp.up_proj.weight"]), W[p + "mlp.down_proj.weight"])
h = rms_norm(h, W["model.norm.weight"])
logits = linear(h, W["lm_head.weight"])

out = {"config": cfg, "tokens": tokens, "logits": [[float(f"{v:.12g}") for v in row] for row in logits]}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "qwen3-numpy-port.json"), "w") as f:
    json.dump(out, f)
    f.write("\n")
print("wrote", logits.shape, "max |logit|", float(np.abs(logits).max()))
