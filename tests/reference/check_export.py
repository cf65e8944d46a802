"""Check a `switchyard export` directory against independent PyTorch implementations.

The export must have been written with `switchyard export SRC OUT --check-logits`, which adds
switchyard_check.safetensors: fixed input ids (1,T) and the logits (T,V) Switchyard computed for
them. This script
  (a) builds the reference model of tests/reference/switchyard_ref.py from config.json (the
      "switchyard" object included), loads model.safetensors (or the index and its shards) with a
      strict state-dict load, runs the ids and compares the logits;
  (b) with --transformers, when `transformers` is importable and the export is Mixtral-compatible,
      loads the directory with MixtralForCausalLM.from_pretrained and compares its logits too.

Usage (Debian's python has torch; a pyenv python usually does not):
    /usr/bin/python3 tests/reference/check_export.py OUT [--transformers] [--tolerance 1e-5]

Prints one line per check. Exit codes: 0 every check passed (or was skipped: no torch, no
transformers); 1 a mismatch; 2 a bad directory or usage.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from typing import Dict, Tuple

try:
    import torch
except ImportError:  # the C++ suite does not depend on torch: report and pass
    print("skipped: torch not installed")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from switchyard_ref import SwitchyardConfig, SwitchyardLM  # noqa: E402

DTYPES = {"F32": (torch.float32, 4), "BF16": (torch.bfloat16, 2), "F16": (torch.float16, 2),
          "I32": (torch.int32, 4)}


def fail(msg: str, code: int = 2) -> None:
    print(f"FAIL {msg}")
    sys.exit(code)


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """Every tensor of a safetensors file (float tensors as float32)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        dtype, size = DTYPES[e["dtype"]]
        begin, end = (8 + n + o for o in e["data_offsets"])
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else \
            torch.empty(0, dtype=dtype)
        t = t.reshape(e["shape"])
        out[name] = t.float() if t.is_floating_point() else t
    return out


def read_weights(export: str) -> Dict[str, torch.Tensor]:
    single = os.path.join(export, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(export, "model.safetensors.index.json")) as f:
        index = json.load(f)
    out = {}
    for shard in sorted(set(index["weight_map"].values())):
        out.update(read_safetensors(os.path.join(export, shard)))
    return out


def ref_config(cfg: dict) -> Tuple[SwitchyardConfig, dict]:
    sw = cfg.get("switchyard", {})
    c = SwitchyardConfig(
        vocab_size=cfg["vocab_size"], hidden_size=cfg["hidden_size"],
        num_layers=cfg["num_hidden_layers"], num_heads=cfg["num_attention_heads"],
        num_kv_heads=cfg.get("num_key_value_heads") or cfg["num_attention_heads"],
        intermediate_size=sw.get("dense_intermediate_size", cfg["intermediate_size"]),
        expert_intermediate_size=cfg["intermediate_size"],
        num_experts=cfg["num_local_experts"], top_k=cfg["num_experts_per_tok"],
        normalize_topk=sw.get("normalize_topk", True), moe_enabled=sw.get("moe_enabled", True),
        moe_every=sw.get("moe_every", 1), moe_first_layer=sw.get("moe_first_layer", 0),
        rope_theta=float(cfg.get("rope_theta", 1e6)),
        rms_norm_eps=float(cfg.get("rms_norm_eps", 1e-5)),
        aux_loss_coef=float(cfg.get("router_aux_loss_coef", 0.001)),
        z_loss_coef=float(sw.get("z_loss_coef", 0.001)))
    return c, sw


def max_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b|."""
    return float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("export", help="a directory written by switchyard export --check-logits")
    p.add_argument("--transformers", action="store_true",
                   help="also compare transformers' MixtralForCausalLM (when installed)")
    p.add_argument("--tolerance", type=float, default=1e-5,
                   help="max |diff| / max |logit| for the reference model (default 1e-5)")
    p.add_argument("--hf-tolerance", type=float, default=1e-4,
                   help="the same for transformers (its RoPE tables are float32; default 1e-4)")
    args = p.parse_args()
    torch.set_num_threads(1)

    check_path = os.path.join(args.export, "switchyard_check.safetensors")
    if not os.path.exists(check_path):
        fail(f"{check_path} is missing: export with switchyard export SRC OUT --check-logits")
    with open(os.path.join(args.export, "config.json")) as f:
        cfg = json.load(f)
    check = read_safetensors(check_path)
    ids, want = check["input_ids"].long(), check["logits"]
    failures = 0

    rc, sw = ref_config(cfg)
    if sw.get("capacity_factor", 0) > 0:
        print("note: the export drops over capacity; the reference model is dropless")
    model = SwitchyardLM(rc)
    weights = read_weights(args.export)
    if cfg.get("tie_word_embeddings") and "lm_head.weight" not in weights:
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as e:
        fail(f"switchyard_ref: the weights do not match config.json: {e}")
    with torch.no_grad():
        got = model(ids).logits
    diff = max_rel(got, want)
    ok = diff <= args.tolerance
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} switchyard_ref logits vs Switchyard: max rel diff "
          f"{diff:.3g} (tolerance {args.tolerance:g}, {tuple(ids.shape)} ids, torch "
          f"{torch.__version__})")

    if args.transformers:
        compatible = (sw.get("moe_enabled", True) and sw.get("moe_every", 1) == 1
                      and sw.get("moe_first_layer", 0) == 0 and sw.get("normalize_topk", True)
                      and not cfg.get("tie_word_embeddings", False))
        try:
            import transformers
            from transformers import MixtralForCausalLM
        except ImportError as e:
            print(f"skipped: transformers not importable ({e})")
        else:
            if not compatible:
                print("skipped: transformers: the export is not MixtralForCausalLM-compatible")
            else:
                hf = MixtralForCausalLM.from_pretrained(args.export, torch_dtype=torch.float32)
                hf.eval()
                with torch.no_grad():
                    hf_logits = hf(input_ids=ids).logits.reshape(want.shape)
                diff = max_rel(hf_logits, want)
                ok = diff <= args.hf_tolerance
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} transformers {transformers.__version__} "
                      f"MixtralForCausalLM logits vs Switchyard: max rel diff {diff:.3g} "
                      f"(tolerance {args.hf_tolerance:g})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
