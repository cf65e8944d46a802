"""A readable PyTorch implementation of the Switchyard model contract (shared/MODEL.md).

The model the C++ framework trains, written the obvious way: a Mixtral-style pre-norm decoder with
GQA attention and rotate-half RoPE, dense SwiGLU or sparse MoE feed-forward blocks (softmax
router in float32, top-k, optional renormalisation, only the chosen experts computed), and the
loss of the contract: ce + aux_coef * sum_l aux_l + z_coef * sum_l z_l.

Parameter names are the export names of the contract (model.embed_tokens.weight,
model.layers.{l}.block_sparse_moe.experts.{e}.w1.weight, ..., lm_head.weight), so a state dict
maps one to one onto a Switchyard checkpoint or a Hugging Face Mixtral export.

Not modelled: the noisy top-k router and expert capacity (dropless routing only).

Usage:
    cfg = SwitchyardConfig(vocab_size=64, hidden_size=32, num_layers=2, num_heads=4,
                           num_kv_heads=2, intermediate_size=48, expert_intermediate_size=24,
                           num_experts=4, top_k=2)
    model = SwitchyardLM(cfg)
    out = model(input_ids, targets)      # out.loss, out.ce, out.aux, out.z, out.logits
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Dict, List, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class SwitchyardConfig:
    vocab_size: int = 64                 # V
    hidden_size: int = 32                # D
    num_layers: int = 2                  # L
    num_heads: int = 4                   # H
    num_kv_heads: int = 2                # Hkv (GQA; H % Hkv == 0)
    intermediate_size: int = 48          # F of dense layers
    expert_intermediate_size: int = 24   # F of each expert
    num_experts: int = 4                 # E
    top_k: int = 2                       # K
    normalize_topk: bool = True          # renormalise the K routing weights to sum 1 (Mixtral)
    moe_enabled: bool = True
    moe_every: int = 1                   # MoE layers: l >= first and (l - first) % every == 0
    moe_first_layer: int = 0
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    aux_loss_coef: float = 0.01
    z_loss_coef: float = 0.001

    def is_moe_layer(self, layer: int) -> bool:
        return (self.moe_enabled and layer >= self.moe_first_layer
                and (layer - self.moe_first_layer) % self.moe_every == 0)

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    def to_strings(self) -> Dict[str, str]:
        """The config as a string map (safetensors __metadata__); bools as "true"/"false"."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = ("true" if v else "false") if isinstance(v, bool) else repr(v)
        return out


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * w."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(seq: int, head_dim: int, theta: float, dtype: torch.dtype, start_pos: int = 0):
    """cos, sin (T, hd/2) for angle = t * theta^(-2i/hd), computed in float64 as the C++ does."""
    i = torch.arange(head_dim // 2, dtype=torch.float64)
    inv_freq = theta ** (-2.0 * i / head_dim)
    pos = torch.arange(start_pos, start_pos + seq, dtype=torch.float64)
    angle = pos[:, None] * inv_freq[None, :]
    return angle.cos().to(dtype), angle.sin().to(dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate-half RoPE on x (B,T,H,hd): x[i] and x[i + hd/2] rotate together by angle (t, i)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class SelfAttention(nn.Module):
    """Causal grouped-query attention with RoPE; kv head j serves query heads j*G .. j*G+G-1."""

    def __init__(self, cfg: SwitchyardConfig):
        super().__init__()
        assert cfg.num_heads % cfg.num_kv_heads == 0 and cfg.hidden_size % cfg.num_heads == 0
        hd = cfg.head_dim
        self.cfg = cfg
        self.q_proj = nn.Linear(cfg.hidden_size, cfg.num_heads * hd, bias=False)
        self.k_proj = nn.Linear(cfg.hidden_size, cfg.num_kv_heads * hd, bias=False)
        self.v_proj = nn.Linear(cfg.hidden_size, cfg.num_kv_heads * hd, bias=False)
        self.o_proj = nn.Linear(cfg.num_heads * hd, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg, (b, t, _) = self.cfg, x.shape
        h, hkv, hd = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim
        q = self.q_proj(x).view(b, t, h, hd)
        k = self.k_proj(x).view(b, t, hkv, hd)
        v = self.v_proj(x).view(b, t, hkv, hd)
        cos, sin = rope_tables(t, hd, cfg.rope_theta, x.dtype)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))  # (B,heads,T,hd)
        k = k.repeat_interleave(h // hkv, dim=1)
        v = v.repeat_interleave(h // hkv, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd)  # (B,H,T,T)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
        o = scores.softmax(-1) @ v  # (B,H,T,hd)
        return self.o_proj(o.transpose(1, 2).reshape(b, t, h * hd))


class DenseMLP(nn.Module):
    """SwiGLU with Llama names: down_proj(silu(gate_proj x) * up_proj x)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Expert(nn.Module):
    """SwiGLU with Mixtral names: w2(silu(w1 x) * w3 x)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class MoeOutput(NamedTuple):
    y: torch.Tensor                  # (N,D)
    aux: torch.Tensor                # () E * sum_i f_i P_i
    z: torch.Tensor                  # () mean over tokens of logsumexp(z)^2
    tokens_per_expert: torch.Tensor  # (E) int64 (token, slot) assignments
    topk_gap: torch.Tensor           # () min over tokens of p_(K) - p_(K+1) (0 when K == E)


class SparseMoe(nn.Module):
    """Softmax router in float32, top-k, dropless; each expert runs on its routed tokens only."""

    def __init__(self, cfg: SwitchyardConfig):
        super().__init__()
        self.cfg = cfg
        self.gate = nn.Linear(cfg.hidden_size, cfg.num_experts, bias=False)
        self.experts = nn.ModuleList(
            Expert(cfg.hidden_size, cfg.expert_intermediate_size) for _ in range(cfg.num_experts))

    def forward(self, x: torch.Tensor) -> MoeOutput:
        cfg, n = self.cfg, x.shape[0]
        e_count, k = cfg.num_experts, cfg.top_k
        # The router runs in float32 (or wider) whatever the model's dtype: z (N,E).
        wide = torch.promote_types(x.dtype, torch.float32)
        logits = F.linear(x.to(wide), self.gate.weight.to(wide))
        probs = logits.softmax(-1)
        top_p, top_e = probs.topk(k, dim=-1)  # (N,K)
        weights = top_p / top_p.sum(-1, keepdim=True) if cfg.normalize_topk else top_p

        y = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            token, slot = torch.nonzero(top_e == e, as_tuple=True)
            if token.numel() == 0:
                continue
            w = weights[token, slot].to(x.dtype)[:, None]
            y = y.index_add(0, token, expert(x[token]) * w)

        counts = torch.bincount(top_e.flatten(), minlength=e_count)
        f = counts.to(probs.dtype) / (n * k)
        aux = e_count * (f * probs.mean(0)).sum()
        z = torch.logsumexp(logits, -1).square().mean()
        if k < e_count:
            sorted_p = probs.detach().sort(-1, descending=True).values
            gap = (sorted_p[:, k - 1] - sorted_p[:, k]).min()
        else:
            gap = torch.zeros(())
        return MoeOutput(y, aux, z, counts, gap)


class DecoderLayer(nn.Module):
    def __init__(self, cfg: SwitchyardConfig, index: int):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = SelfAttention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        if cfg.is_moe_layer(index):
            self.block_sparse_moe = SparseMoe(cfg)
        else:
            self.mlp = DenseMLP(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor, moe_outputs: List[MoeOutput]) -> torch.Tensor:
        b, t, d = x.shape
        h = x + self.self_attn(self.input_layernorm(x))
        n2 = self.post_attention_layernorm(h).reshape(b * t, d)
        if hasattr(self, "block_sparse_moe"):
            out = self.block_sparse_moe(n2)
            moe_outputs.append(out)
            ffn = out.y
        else:
            ffn = self.mlp(n2)
        return h + ffn.reshape(b, t, d)


class DecoderBody(nn.Module):
    """The "model." subtree: embed_tokens, layers, norm."""

    def __init__(self, cfg: SwitchyardConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg, l) for l in range(cfg.num_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, ids: torch.Tensor, moe_outputs: List[MoeOutput]) -> torch.Tensor:
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, moe_outputs)
        return self.norm(x)


class LossOutput(NamedTuple):
    logits: torch.Tensor          # (B*T,V)
    loss: Optional[torch.Tensor]  # () ce + aux_coef * sum aux + z_coef * sum z
    ce: Optional[torch.Tensor]    # () mean cross-entropy
    aux: torch.Tensor             # () sum over MoE layers of aux_l
    z: torch.Tensor               # () sum over MoE layers of z_l
    moe: List[MoeOutput]          # one per MoE layer, in layer order


class SwitchyardLM(nn.Module):
    def __init__(self, cfg: SwitchyardConfig):
        super().__init__()
        self.cfg = cfg
        self.model = DecoderBody(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def forward(self, ids: torch.Tensor, targets: Optional[torch.Tensor] = None) -> LossOutput:
        """ids, targets (B,T) int -> logits (B*T,V) and, with targets, the contract's loss."""
        moe: List[MoeOutput] = []
        h = self.model(ids, moe)
        logits = self.lm_head(h.reshape(-1, self.cfg.hidden_size))
        aux = sum((m.aux for m in moe), torch.zeros((), dtype=torch.float32))
        z = sum((m.z for m in moe), torch.zeros((), dtype=torch.float32))
        if targets is None:
            return LossOutput(logits, None, None, aux, z, moe)
        ce = F.cross_entropy(logits, targets.reshape(-1).long())
        loss = ce + self.cfg.aux_loss_coef * aux + self.cfg.z_loss_coef * z
        return LossOutput(logits, loss, ce, aux, z, moe)

    def decay_groups(self, weight_decay: float) -> List[dict]:
        """AdamW parameter groups: weight decay on every weight but the norms (name has "norm")."""
        decay, no_decay = [], []
        for name, p in self.named_parameters():
            (no_decay if "norm" in name else decay).append(p)
        return [{"params": decay, "weight_decay": weight_decay},
                {"params": no_decay, "weight_decay": 0.0}]
