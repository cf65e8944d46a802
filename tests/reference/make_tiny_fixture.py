"""Writes the reference fixtures that tests/unit/trainer/reference/reference_test.cpp checks the C++
model and optimizer against (llm.c's test_gpt2 pattern).

For each tiny model: seeded weights, 11 seeded batches, then with PyTorch (switchyard_ref.py):
  - step 0: logits, loss, ce, aux, z and the gradient of the total loss for every parameter;
  - 10 training steps of AdamW (PyTorch's, two groups: no decay on norm weights) with the
    trainer's LR schedule (linear warmup, cosine decay) and global-norm clipping at 1.0,
    one micro-batch per step; the loss and the pre-clip gradient norm of every step;
  - the loss on batch 10 after the 10th update (checks the last update too).
A float64 run of the same recipe measures how far float32 itself is from exact, and the smallest
gap between the K-th and (K+1)-th router probability over every step shows how far routing is
from a float-noise flip (the generator refuses a seed whose gap is below MIN_TOPK_GAP).

Run from the repository root with Debian's PyTorch (apt-get install -y python3-torch):
    /usr/bin/python3 tests/reference/make_tiny_fixture.py
"""

from __future__ import annotations

import copy
import json
import math
import os
import struct
import sys
from typing import Dict, Tuple

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from switchyard_ref import SwitchyardConfig, SwitchyardLM  # noqa: E402

STEPS = 10
BATCH, SEQ = 2, 16
MIN_TOPK_GAP = 1e-4
# Adam normalises each element's step by its gradient's size, so an element whose gradient is near
# eps (1e-8) moves by an amount float32 rounding decides; a seed whose float32 loss curve or
# gradient norms stray further than this from float64's is refused (its curve would test noise).
MAX_FLOAT32_CURVE_ERROR = 5e-6
# Mirrors trainer/optim: LrSchedule{lr, min_lr, warmup_steps, total_steps, kCosine}, AdamWOptions,
# clip_grad_norm(max_norm).
TRAIN = dict(lr=1e-2, min_lr=1e-3, warmup_steps=3, total_steps=STEPS, beta1=0.9, beta2=0.95,
             eps=1e-8, weight_decay=0.1, grad_clip=1.0)

FIXTURES = {
    # All-MoE (the default layout), K=2 of E=4, renormalised top-k weights.
    "tiny_reference.safetensors": dict(
        seed=11,
        cfg=SwitchyardConfig(vocab_size=64, hidden_size=32, num_layers=2, num_heads=4,
                             num_kv_heads=2, intermediate_size=48, expert_intermediate_size=24,
                             num_experts=4, top_k=2, normalize_topk=True)),
    # Dense, MoE, dense (moe_first_layer 1, every 2), raw top-k weights, K=2 of E=3, MHA.
    "tiny_reference_dense_moe.safetensors": dict(
        seed=30,
        cfg=SwitchyardConfig(vocab_size=48, hidden_size=24, num_layers=3, num_heads=3,
                             num_kv_heads=3, intermediate_size=40, expert_intermediate_size=20,
                             num_experts=3, top_k=2, normalize_topk=False, moe_every=2,
                             moe_first_layer=1, rope_theta=500.0, rms_norm_eps=1e-6,
                             aux_loss_coef=0.05, z_loss_coef=0.01)),
}


def lr_at(step: int) -> float:
    """trainer/optim/lr_schedule.cpp, LrSchedule::at with shape kCosine."""
    t = TRAIN
    if step < t["warmup_steps"]:
        return t["lr"] * (step + 1) / t["warmup_steps"]
    decay_steps = max(1, t["total_steps"] - 1 - t["warmup_steps"])
    progress = min(max((step - t["warmup_steps"]) / decay_steps, 0.0), 1.0)
    return t["min_lr"] + 0.5 * (t["lr"] - t["min_lr"]) * (1.0 + math.cos(math.pi * progress))


def init_weights(model: SwitchyardLM, gen: torch.Generator) -> None:
    """normal(0, 0.1) weights (larger than training's 0.02 so gradients are not tiny); norm
    weights uniform in [0.8, 1.2] so their gradients and the norms' scaling are exercised."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(0.8 + 0.4 * torch.rand(p.shape, generator=gen))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def make_batches(vocab: int, gen: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    """(STEPS+1, B, T) inputs and next-token targets from a noisy random bigram chain, so the loss
    can fall across batches: next = perm[cur] with probability 0.75, else uniform."""
    perm = torch.randperm(vocab, generator=gen)
    seqs = torch.empty(STEPS + 1, BATCH, SEQ + 1, dtype=torch.int64)
    for s in range(STEPS + 1):
        for b in range(BATCH):
            tok = int(torch.randint(vocab, (1,), generator=gen))
            for t in range(SEQ + 1):
                seqs[s, b, t] = tok
                follow = float(torch.rand(1, generator=gen)) < 0.95
                tok = int(perm[tok]) if follow else int(torch.randint(vocab, (1,), generator=gen))
    return seqs[..., :-1].contiguous(), seqs[..., 1:].contiguous()


def train(model: SwitchyardLM, ids: torch.Tensor, targets: torch.Tensor) -> Dict[str, object]:
    """Step 0's outputs and gradients, then STEPS optimizer steps and the final loss."""
    t = TRAIN
    params = list(model.parameters())
    opt = torch.optim.AdamW(model.decay_groups(t["weight_decay"]), lr=t["lr"],
                            betas=(t["beta1"], t["beta2"]), eps=t["eps"])
    result: Dict[str, object] = {"losses": [], "grad_norms": [], "min_gap": math.inf}
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        out = model(ids[step], targets[step])
        out.loss.backward()
        for m in out.moe:
            result["min_gap"] = min(result["min_gap"], float(m.topk_gap))
        # An expert that received no token has no gradient; Switchyard's AdamW treats that as a
        # zero gradient (decay and moment updates still happen), PyTorch's would skip the tensor.
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if step == 0:
            result["step0"] = out
            result["grads"] = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
        result["losses"].append(float(out.loss))
        norm = torch.nn.utils.clip_grad_norm_(params, t["grad_clip"])
        result["grad_norms"].append(float(norm))
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        opt.step()
    with torch.no_grad():
        out = model(ids[STEPS], targets[STEPS])
        result["final_loss"] = float(out.loss)
        for m in out.moe:
            result["min_gap"] = min(result["min_gap"], float(m.topk_gap))
    return result


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor], metadata: Dict[str, str]):
    """The safetensors layout, written by hand (the package is not in Debian 12): 8-byte LE header
    length, JSON header (sorted names, __metadata__ first, space padded to 8 bytes), raw data."""
    dtypes = {torch.float32: "F32", torch.int32: "I32"}
    header: Dict[str, object] = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def max_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30))


def make(filename: str, seed: int, cfg: SwitchyardConfig, out_dir: str) -> None:
    gen = torch.Generator().manual_seed(seed)
    model = SwitchyardLM(cfg)
    init_weights(model, gen)
    ids, targets = make_batches(cfg.vocab_size, gen)
    initial = {n: p.detach().clone() for n, p in model.named_parameters()}
    model64 = copy.deepcopy(model).double()

    ref = train(model, ids, targets)
    ref64 = train(model64, ids, targets)
    if ref["min_gap"] < MIN_TOPK_GAP or ref64["min_gap"] < MIN_TOPK_GAP:
        raise SystemExit(f"{filename}: a top-k gap of {ref['min_gap']:.2e} is too close to a tie; "
                         "choose another seed")

    s0, s064 = ref["step0"], ref64["step0"]
    print(f"{filename}: {sum(p.numel() for p in model.parameters())} parameters, "
          f"min top-k gap {ref['min_gap']:.2e}")
    print(f"  step 0: loss {float(s0.loss):.6f} ce {float(s0.ce):.6f} aux {float(s0.aux):.6f} "
          f"z {float(s0.z):.6f}; tokens per expert "
          + " ".join(str(m.tokens_per_expert.tolist()) for m in s0.moe))
    print(f"  losses {' '.join(f'{x:.4f}' for x in ref['losses'])} final {ref['final_loss']:.4f}")
    print(f"  grad norms {' '.join(f'{x:.3f}' for x in ref['grad_norms'])}")
    grad_rel = max(max_rel(ref["grads"][n], ref64["grads"][n]) for n in ref["grads"])
    curve_rel = max(abs(a - b) / abs(b) for a, b in zip(ref["losses"] + [ref["final_loss"]],
                                                        ref64["losses"] + [ref64["final_loss"]]))
    norm_rel = max(abs(a - b) / abs(b) for a, b in zip(ref["grad_norms"], ref64["grad_norms"]))
    if max(curve_rel, norm_rel) > MAX_FLOAT32_CURVE_ERROR:
        raise SystemExit(f"{filename}: float32 is {max(curve_rel, norm_rel):.1e} from float64 on "
                         "the loss curve or gradient norms; choose another seed")
    print(f"  float32 vs float64: logits {max_rel(s0.logits, s064.logits):.1e}, "
          f"loss {abs(float(s0.loss) - float(s064.loss)) / float(s064.loss):.1e}, "
          f"grads (max over tensors, relative to each tensor's max) {grad_rel:.1e}, "
          f"loss curve {curve_rel:.1e}, grad norms {norm_rel:.1e}")

    tensors: Dict[str, torch.Tensor] = dict(initial)
    tensors["ref.input_ids"] = ids.to(torch.int32)
    tensors["ref.targets"] = targets.to(torch.int32)
    tensors["ref.logits"] = s0.logits.detach()
    for key in ("loss", "ce", "aux", "z"):
        tensors["ref." + key] = getattr(s0, key).detach().reshape(()).float()
    tensors["ref.tokens_per_expert"] = torch.stack([m.tokens_per_expert for m in s0.moe]).to(
        torch.int32) if s0.moe else torch.zeros(0, cfg.num_experts, dtype=torch.int32)
    for name, g in ref["grads"].items():
        tensors["grad." + name] = g
    tensors["ref.losses"] = torch.tensor(ref["losses"], dtype=torch.float32)
    tensors["ref.grad_norms"] = torch.tensor(ref["grad_norms"], dtype=torch.float32)
    tensors["ref.final_loss"] = torch.tensor(ref["final_loss"], dtype=torch.float32)

    metadata = cfg.to_strings()
    metadata.update({"train." + k: repr(v) for k, v in TRAIN.items()})
    metadata.update({"train.steps": str(STEPS), "train.lr_shape": "cosine",
                     "generator": "tests/reference/make_tiny_fixture.py",
                     "torch_version": torch.__version__, "seed": str(seed),
                     "min_topk_gap": f"{min(ref['min_gap'], ref64['min_gap']):.3e}"})
    path = os.path.join(out_dir, filename)
    write_safetensors(path, tensors, metadata)
    print(f"  wrote {path} ({os.path.getsize(path)} bytes)")


def main() -> None:
    torch.set_num_threads(1)  # reproducible reductions
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = os.path.join(root, "tests", "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    for filename, spec in FIXTURES.items():
        make(filename, spec["seed"], spec["cfg"], out_dir)


if __name__ == "__main__":
    main()
