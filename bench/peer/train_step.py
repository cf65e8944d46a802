#!/usr/bin/python3
"""PyTorch eager peer of `switchyard train`: the same model, batch and optimizer step.

Builds tests/reference/switchyard_ref.py's SwitchyardLM with the shape of a Switchyard YAML config
(default configs/bench-small.yaml) in float32 and times full training steps the way
trainer/train/trainer.cpp does: zero the gradients, forward and backward over the step's
micro-batches (each loss scaled by 1/M), clip the global gradient norm, AdamW step. Batches are
random (B, T) windows of the config's token shard (llm.c .bin, read with numpy).

Prints one JSON object on stdout: tokens_per_s and step_ms (medians over the timed steps, i.e.
all steps after --warmup), their per-step values, peak RSS (getrusage ru_maxrss, KiB), the torch
version and the thread count.

    /usr/bin/python3 bench/peer/train_step.py configs/bench-small.yaml train.steps=10 \
        [--threads N] [--warmup 2]

Use Debian's /usr/bin/python3 (python3-torch). Threads default to OMP_NUM_THREADS, else the CPUs
this process may run on: the default of the C++ binary (OpenMP).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "reference"))
import switchyard_ref as ref  # noqa: E402


def parse_scalar(text: str):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def load_config(path: str, overrides: list[str]) -> dict:
    """The YAML's two-level map (section: {key: value}) with `section.key=value` overrides."""
    try:
        import yaml
        with open(path) as f:
            cfg = yaml.safe_load(f) or {}
    except ImportError:  # the configs are plain two-level maps: a tiny parser is enough
        cfg, section = {}, None
        for raw in open(path):
            line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
            if not line.strip():
                continue
            key, _, value = line.strip().partition(":")
            if not line.startswith(" "):
                section = cfg.setdefault(key, {})
            else:
                section[key] = parse_scalar(value)
    for item in overrides:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        cfg.setdefault(section, {})[name] = parse_scalar(value)
    return cfg


def model_config(cfg: dict) -> ref.SwitchyardConfig:
    m, moe = cfg["model"], cfg.get("moe", {})
    if m.get("tie_word_embeddings", False):
        raise SystemExit("peer: tie_word_embeddings is not modelled by switchyard_ref")
    if moe.get("router", "softmax") != "softmax" or float(moe.get("capacity_factor", 0)) > 0:
        raise SystemExit("peer: switchyard_ref models the dropless softmax router only")
    return ref.SwitchyardConfig(
        vocab_size=m["vocab_size"], hidden_size=m["hidden_size"], num_layers=m["num_layers"],
        num_heads=m["num_heads"], num_kv_heads=m.get("num_kv_heads", m["num_heads"]),
        intermediate_size=m["intermediate_size"],
        expert_intermediate_size=moe.get("intermediate_size", 0) or m["intermediate_size"],
        num_experts=moe.get("num_experts", 8), top_k=moe.get("top_k", 2),
        normalize_topk=moe.get("normalize_topk", True), moe_enabled=moe.get("enabled", True),
        moe_every=moe.get("every", 1), moe_first_layer=moe.get("first_layer", 0),
        rope_theta=float(m.get("rope_theta", 10000.0)),
        rms_norm_eps=float(m.get("rms_norm_eps", 1e-5)),
        aux_loss_coef=float(moe.get("aux_loss_coef", 0.01)),
        z_loss_coef=float(moe.get("z_loss_coef", 0.001)))


def init_like_switchyard(model: ref.SwitchyardLM, std: float, layers: int) -> None:
    """Decoder::init: norms 1, output projections std/sqrt(2L), every other weight std."""
    out_std = std / math.sqrt(2.0 * layers)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith(("o_proj.weight", "down_proj.weight", ".w2.weight")):
                p.normal_(0.0, out_std)
            else:
                p.normal_(0.0, std)


def load_tokens(path: str) -> np.ndarray:
    """An llm.c token shard: 256 int32 header words (magic, version, count, ...), then tokens."""
    header = np.fromfile(path, dtype="<i4", count=256)
    width = {20240520: "<u2", 20240801: "<u4"}.get(int(header[0]))
    if width is None:
        raise SystemExit(f"peer: {path}: bad magic {header[0]}")
    tokens = np.fromfile(path, dtype=width, offset=1024)
    if tokens.size != header[2]:
        raise SystemExit(f"peer: {path}: {tokens.size} tokens, header says {header[2]}")
    return tokens


def lr_at(step: int, o: dict, steps: int) -> float:
    """LrSchedule::at: linear warmup, then cosine decay to min_lr at the last step (or constant)."""
    lr, min_lr, warm = float(o["lr"]), float(o.get("min_lr", 0.0)), int(o.get("warmup_steps", 0))
    if step < warm:
        return lr * (step + 1) / warm
    if o.get("schedule", "cosine") == "constant":
        return lr
    progress = min(1.0, max(0.0, (step - warm) / max(1, steps - 1 - warm)))
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0]
    return int(env) if env.isdigit() and int(env) > 0 else len(os.sched_getaffinity(0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config", nargs="?", default=str(REPO / "configs" / "bench-small.yaml"))
    ap.add_argument("overrides", nargs="*", help="section.key=value, as for switchyard train")
    ap.add_argument("--threads", type=int, default=default_threads())
    ap.add_argument("--warmup", type=int, default=2, help="untimed first steps")
    args = ap.parse_args()

    cfg = load_config(args.config, args.overrides)
    train, optim = cfg["train"], cfg["optim"]
    steps, warmup = int(train["steps"]), args.warmup
    if steps <= warmup:
        raise SystemExit(f"peer: train.steps ({steps}) must exceed --warmup ({warmup})")
    gb, mb, t = int(train["global_batch_size"]), int(train["micro_batch_size"]), int(train["seq_len"])
    micro_batches = gb // mb
    seed = int(cfg.get("run", {}).get("seed", 1234))

    torch.set_num_threads(args.threads)
    torch.manual_seed(seed)
    mcfg = model_config(cfg)
    model = ref.SwitchyardLM(mcfg)
    init_like_switchyard(model, float(cfg["model"].get("init_std", 0.02)), mcfg.num_layers)
    model.train()
    params = [p for p in model.parameters()]
    opt = torch.optim.AdamW(
        model.decay_groups(float(optim.get("weight_decay", 0.1))), lr=float(optim["lr"]),
        betas=(float(optim.get("beta1", 0.9)), float(optim.get("beta2", 0.95))),
        eps=float(optim.get("eps", 1e-8)))
    clip = float(optim.get("grad_clip", 1.0))

    data_path = cfg["data"]["train"]
    if not os.path.isabs(data_path) and not os.path.exists(data_path):
        data_path = str(REPO / data_path)
    tokens = load_tokens(data_path)
    if tokens.max(initial=0) >= mcfg.vocab_size:
        raise SystemExit(f"peer: {data_path} has token ids >= vocab_size {mcfg.vocab_size}")
    rng = np.random.default_rng(seed)
    window = np.arange(t + 1)

    def sample() -> tuple[torch.Tensor, torch.Tensor]:
        offsets = rng.integers(0, tokens.size - t, size=mb)
        seqs = torch.from_numpy(tokens[offsets[:, None] + window].astype(np.int64))
        return seqs[:, :-1], seqs[:, 1:]

    step_ms, losses = [], []
    for step in range(steps):
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, optim, steps)
        opt.zero_grad(set_to_none=True)
        loss_sum = 0.0
        for _ in range(micro_batches):
            inputs, targets = sample()
            out = model(inputs, targets)
            (out.loss / micro_batches).backward()
            loss_sum += out.loss.item()
        grad_norm = torch.nn.utils.clip_grad_norm_(params, clip) if clip > 0 else None
        opt.step()
        step_ms.append((time.perf_counter() - t0) * 1e3)
        losses.append(loss_sum / micro_batches)
        print(f"peer step {step + 1}/{steps}: loss {losses[-1]:.4f} "
              f"grad_norm {float(grad_norm) if grad_norm is not None else float('nan'):.3f} "
              f"{step_ms[-1]:.1f} ms", file=sys.stderr, flush=True)

    tokens_per_step = gb * t
    timed = step_ms[warmup:]
    per_step_tps = [tokens_per_step / (ms / 1e3) for ms in timed]
    print(json.dumps({
        "impl": "pytorch-eager",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "config": args.config,
        "steps": steps,
        "warmup_steps_skipped": warmup,
        "tokens_per_step": tokens_per_step,
        "tokens_per_s": statistics.median(per_step_tps),
        "step_ms": statistics.median(timed),
        "step_ms_timed": [round(x, 2) for x in timed],
        "tokens_per_s_min": min(per_step_tps),
        "tokens_per_s_max": max(per_step_tps),
        "params": sum(p.numel() for p in params),
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
