"""Write the PyTorch checkpoint fixtures under test/fixtures/torch/ (see README.md).

    /usr/bin/python3 scripts/reference/make_checkpoints.py
        writes every file (deterministic: seed 2048, one torch.Generator per purpose)
    /usr/bin/python3 scripts/reference/make_checkpoints.py --check-export FILE --variant micro
        loads FILE (.pt/.pth: torch.load(weights_only=True), or a restricted unpickler where
        torch 1.13 cannot, then key "state_dict_model"; .safetensors: the whole file),
        load_state_dict(strict=True) into the float64 model of the variant, runs
        expected.json's input and compares logits and cams (exit 1 if either differs by more
        than 1e-4)
    /usr/bin/python3 scripts/reference/make_checkpoints.py --inspect [FILE ...]
        lists the zip entries and the pickle globals of .pt/.pth files, the header of
        .safetensors files (default: every file in test/fixtures/torch/)

Models come from swin_mek.build; parameters from make_fixtures.randomise (float32 draws), so
the float64 model is exact on the float32 values stored in the files.
"""
import argparse
import collections
import copy
import json
import os
import pickle
import pickletools
import struct
import sys
import time
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swin_mek as sm  # noqa: E402
from make_fixtures import enc, nhwc_input, randomise  # noqa: E402

SEED = 2048
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "torch")
# The bound on logits and CAMs, |a - b| / max(1, |b|), of the tests that load these files (and of
# --check-export); written into expected.json as "tolerance", its first key.
TOL = 1e-4

MICRO = {"img_size": 28, "patch_size": 2, "in_chans": 3, "embed_dim": 8, "depths": [2, 2],
         "num_heads": [1, 2], "window_size": 7, "mlp_ratio": 4, "qkv_bias": True,
         "patch_norm": True, "num_classes": 7, "embedding_size": 16, "drop_path_rate": 0}
KNOBS = {"img_size": 32, "patch_size": 4, "in_chans": 3, "embed_dim": 12, "depths": [2, 1, 1],
         "num_heads": [2, 3, 6], "window_size": 4, "mlp_ratio": 2, "qkv_bias": False,
         "patch_norm": False, "num_classes": 5, "embedding_size": 8, "drop_path_rate": 0}
VARIANTS = {"micro": MICRO, "knobs": KNOBS}
INPUT_SHAPES = {"micro": (2, 28, 28, 3), "knobs": (2, 32, 32, 3)}
IMAGENET_CLASSES = 10

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
               torch.bfloat16: "bfloat16", torch.int64: "int64"}


def skip_buffer(name):
    return name.endswith(("relative_position_index", "attn_mask", "num_batches_tracked"))


# ---------------------------------------------------------------- safetensors

ST_DTYPES = {torch.float32: ("F32", "<f4"), torch.float16: ("F16", "<f2"),
             torch.bfloat16: ("BF16", None), torch.float64: ("F64", "<f8"),
             torch.int64: ("I64", "<i8")}
ST_ALIGN = {"I64": 8, "F64": 8, "F32": 4, "BF16": 2, "F16": 2}
# the Rust writer sorts tensors by dtype (descending enum order: I64 > F64 > F32 > BF16 > F16),
# then by name; the header lists them in the same order after "__metadata__"
ST_RANK = {"I64": 0, "F64": 1, "F32": 2, "BF16": 3, "F16": 4}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(ST_DTYPES[t.dtype][1]).tobytes()


def write_safetensors(path, sd, metadata=None):
    """What safetensors.torch.save_file writes: u64 LE header length, compact JSON header
    padded with spaces to a multiple of 8, then the tensors back to back in C order."""
    items = sorted(sd.items(), key=lambda kv: (ST_RANK[ST_DTYPES[kv[1].dtype][0]], kv[0]))
    header = {"__metadata__": metadata or {"format": "pt"}}
    chunks, pos = [], 0
    for name, t in items:
        data = tensor_bytes(t)
        header[name] = {"dtype": ST_DTYPES[t.dtype][0], "shape": list(t.shape),
                        "data_offsets": [pos, pos + len(data)]}
        chunks.append(data)
        pos += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode())
    buf = raw[8 + n:]
    out = collections.OrderedDict()
    meta = header.pop("__metadata__", None)
    for name, e in header.items():
        b, end = e["data_offsets"]
        assert 0 <= b <= end <= len(buf), (name, e)
        shape = e["shape"]
        numel = int(np.prod(shape)) if shape else 1
        dt = e["dtype"]
        if dt == "BF16":
            u = np.frombuffer(buf[b:end], dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
            assert end - b == 2 * numel, name
            t = torch.from_numpy(arr.copy()).to(torch.bfloat16)
        else:
            npdt = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8"}[dt]
            arr = np.frombuffer(buf[b:end], dtype=npdt)
            assert arr.size == numel, (name, arr.size, numel)
            t = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("=")).copy())
        out[name] = t.reshape(shape)
    return out, meta


# ---------------------------------------------------------------- torch.load

SAFE_GLOBALS = {("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"),
                ("torch._utils", "_rebuild_parameter"), ("torch", "Size")}


class _RestrictedPickle:
    """pickle_module for torch.load: the standard unpickler (every opcode of protocols 2 to
    5) with find_class limited to SAFE_GLOBALS. torch.load resolves the *Storage globals
    itself before it asks find_class."""
    __name__ = "pickle"

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) not in SAFE_GLOBALS:
                raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
            return super().find_class(module, name)

    load = staticmethod(pickle.load)


def safe_load(path, quiet=False):
    """torch.load(weights_only=True); torch 1.13's weights-only unpickler knows neither
    BINFLOAT nor the protocol 4/5 opcodes (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL),
    so fall back to the standard unpickler restricted to the same kind of allow-list."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported operand" not in str(e):
            raise
        if not quiet:
            print(f"torch.load(weights_only=True) failed ({str(e).split('error: ')[-1]}); "
                  f"loading with the restricted unpickler instead")
        return torch.load(path, map_location="cpu", pickle_module=_RestrictedPickle)


# ---------------------------------------------------------------- helpers

def cast_sd(sd, dtype):
    out = collections.OrderedDict(
        (k, v.to(dtype) if v.is_floating_point() else v.clone()) for k, v in sd.items())
    out._metadata = copy.deepcopy(sd._metadata)
    return out


def run_model(variant, sd, x_nchw):
    """float64 eval-mode (logits, cams) of the variant with the state dict's values."""
    model = sm.build(variant).double().eval()
    model.load_state_dict(sd, strict=True)  # copies with a cast to float64
    with torch.no_grad():
        return model(x_nchw)


def dtypes_of(sd):
    return {k: DTYPE_NAMES[v.dtype] for k, v in sd.items()}


def keys_of(sd):
    return [[k, list(v.shape)] for k, v in sd.items()]


def views_sd(sd):
    """Same values, stored awkwardly: every 2-D tensor (int64 relative_position_index too)
    is a transposed view of a contiguous transposed copy (strides (1, rows)); the conv weight
    is channels-last; attn_mask has permuted strides; every 1-D `.bias` is a slice (nonzero
    storage offset, a 1-element gap after each) of one shared float32 buffer; every
    num_batches_tracked is a 0-d view into one shared int64 buffer."""
    out = collections.OrderedDict()
    biases = [k for k, v in sd.items() if v.ndim == 1 and k.endswith(".bias")]
    counters = [k for k in sd if k.endswith("num_batches_tracked")]
    parts, where, pos = [torch.full((3,), 7777.0)], {}, 3
    for k in biases:
        where[k] = pos
        parts += [sd[k], torch.full((1,), -7777.0)]
        pos += sd[k].numel() + 1
    shared = torch.cat(parts)
    ints = torch.tensor([-1] + [int(sd[k]) for k in counters] + [-1], dtype=torch.int64)
    for k, v in sd.items():
        if k in where:
            t = shared[where[k]:where[k] + v.numel()]
        elif k in counters:
            t = ints[1 + counters.index(k)]
        elif v.ndim == 2:
            t = v.t().contiguous().t()
        elif v.ndim == 4:
            t = v.contiguous(memory_format=torch.channels_last)
        elif v.ndim == 3:
            t = v.permute(2, 0, 1).contiguous().permute(1, 2, 0)
        else:
            t = v.clone()
        assert torch.equal(t, v) and t.dtype == v.dtype, k
        out[k] = t
    out._metadata = copy.deepcopy(sd._metadata)
    for k in biases:
        assert out[k].storage_offset() > 0 and out[k].storage().data_ptr() == \
            shared.storage().data_ptr(), k
    for k in counters:
        assert out[k].storage_offset() > 0 and out[k].ndim == 0, k
    return out, biases, counters


def ddp_sd(model):
    """DistributedDataParallel's state dict: a module with the model as `module`."""
    wrap = torch.nn.Module()
    wrap.module = model
    return wrap.state_dict()


def ms_sd(encoder_sd, head_w, head_b):
    out = collections.OrderedDict(
        (k, v) for k, v in encoder_sd.items() if not k.startswith("feature."))
    out["head.weight"] = head_w
    out["head.bias"] = head_b
    out._metadata = collections.OrderedDict(
        (k, v) for k, v in encoder_sd._metadata.items() if not k.startswith("feature"))
    out._metadata["head"] = {"version": 1}
    return out


def timm_sd(encoder_sd, head_w, head_b):
    """timm >= 0.9 SwinTransformer: stage i's patch merging lives at the start of stage i+1
    (norm before reduction), index/mask buffers are non-persistent, head is head.fc."""
    out = collections.OrderedDict()
    n_layers = 1 + max(int(k.split(".")[1]) for k in encoder_sd if k.startswith("layers."))
    for k in ("patch_embed.proj.weight", "patch_embed.proj.bias", "patch_embed.norm.weight",
              "patch_embed.norm.bias"):
        if k in encoder_sd:
            out[k] = encoder_sd[k]
    for i in range(n_layers):
        if i > 0:
            src = f"layers.{i - 1}.downsample."
            for part in ("norm.weight", "norm.bias", "reduction.weight"):
                out[f"layers.{i}.downsample.{part}"] = encoder_sd[src + part]
        for k, v in encoder_sd.items():
            if k.startswith(f"layers.{i}.blocks.") and not skip_buffer(k):
                out[k] = v
    out["norm.weight"] = encoder_sd["norm.weight"]
    out["norm.bias"] = encoder_sd["norm.bias"]
    out["head.fc.weight"] = head_w
    out["head.fc.bias"] = head_b
    return out


class _DeterministicLegacyPickle:
    """pickle_module for the legacy torch.save: the legacy format names each storage by its
    memory address (str(storage._cdata)); map those keys to "0", "1", ... so the file is
    byte-identical from run to run. Everything else is the standard pickle module."""

    __name__ = "pickle"  # torch.save asks whether this is dill

    def __init__(self):
        self.keys = {}
        outer = self

        class Pickler(pickle._Pickler):
            def __setattr__(self, name, value):
                if name == "persistent_id" and callable(value):
                    inner = value

                    def wrapped(obj):
                        pid = inner(obj)
                        if isinstance(pid, tuple) and pid and pid[0] == "storage":
                            pid = pid[:2] + (outer.key(pid[2]),) + pid[3:]
                        return pid
                    value = wrapped
                object.__setattr__(self, name, value)

        self.Pickler = Pickler

    def key(self, k):
        return self.keys.setdefault(k, str(len(self.keys)))

    def dump(self, obj, f, protocol=2):
        if isinstance(obj, list) and obj and all(isinstance(k, str) and k in self.keys
                                                 for k in obj):
            obj = [self.keys[k] for k in obj]
        pickle.dump(obj, f, protocol=protocol)


def save_legacy(obj, path):
    mod = _DeterministicLegacyPickle()
    torch.save(obj, path, pickle_module=mod, _use_new_zipfile_serialization=False)
    assert len(mod.keys) <= 1, "more than one storage: the data order would follow addresses"


# ---------------------------------------------------------------- fixtures

def optimizer_state(model, x_nchw, g):
    """AdamW(lr=1e-3) state after one step of cross-entropy on a float32 copy of the model
    (the saved model itself is left untouched)."""
    m = copy.deepcopy(model).float().eval()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    labels = torch.randint(0, MICRO["num_classes"], (x_nchw.shape[0],), generator=g)
    logits, _ = m(x_nchw.float())
    torch.nn.functional.cross_entropy(logits, labels).backward()
    opt.step()
    return opt.state_dict()


def build_variant(name, g):
    variant = VARIANTS[name]
    model = sm.build(variant)
    randomise(model, g)
    model.eval()
    x_nhwc, x = nhwc_input(INPUT_SHAPES[name], g)
    sd = model.state_dict()
    for k, v in sd.items():
        assert v.dtype == (torch.int64 if k.endswith(("index", "num_batches_tracked"))
                           else torch.float32), (k, v.dtype)
    logits, cams = run_model(variant, sd, x)
    return model, sd, x_nhwc, x, logits, cams


def save(obj, fname, **kw):
    path = os.path.join(OUT, fname)
    torch.save(obj, path, **kw)
    return path


def make_all():
    os.makedirs(OUT, exist_ok=True)
    expected = {"tolerance": TOL, "seed": SEED, "files": {}}
    files = expected["files"]

    # ---- micro
    g = torch.Generator().manual_seed(SEED)
    model, sd, x_nhwc, x, logits, cams = build_variant("micro", g)
    g_extra = torch.Generator().manual_seed(SEED + 2)
    micro = {"variant": MICRO, "input": enc(x_nhwc), "logits": enc(logits), "cams": enc(cams),
             "state_dict_keys": keys_of(sd), "state_dict_dtypes": dtypes_of(sd),
             "params": {k: enc(v) for k, v in sd.items() if not skip_buffer(k)}}
    print(f"micro: {len(sd)} state-dict entries, "
          f"{sum(p.numel() for p in model.parameters())} parameters; logits[0] "
          f"{[round(v, 4) for v in logits[0].tolist()]}")

    # 1. the training checkpoint of the release
    opt_sd = optimizer_state(model, x, g_extra)
    assert isinstance(opt_sd["param_groups"][0]["betas"], tuple)
    enc_sd = model.encoder.state_dict()
    save({"state_dict_model": sd, "state_dict_backbone": enc_sd, "global_step": 1000,
          "epoch": 2, "state_optimizer": opt_sd}, "micro_model.pt")
    files["micro_model.pt"] = {
        "format": "zip", "keys": ["state_dict_model", "state_dict_backbone", "global_step",
                                  "epoch", "state_optimizer"],
        "state_dict": "state_dict_model", "prefix": "", "dtype": "float32", "logits": "logits",
        "global_step": 1000, "epoch": 2,
        "note": "state_dict_backbone shares its storages with the encoder.* entries; "
                "state_optimizer is an AdamW state_dict (int keys, tuples, None, bools, "
                "0-d step tensors)"}
    pg = opt_sd["param_groups"][0]
    expected["micro_optimizer"] = {
        "param_groups": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in pg.items()}],
        "state_count": len(opt_sd["state"]),
        "state_0_keys": list(opt_sd["state"][0].keys())}

    # 2. DistributedDataParallel names
    sd_mod = ddp_sd(model)
    assert list(sd_mod) == ["module." + k for k in sd]
    save({"state_dict_model": sd_mod}, "micro_model_module.pt")
    files["micro_model_module.pt"] = {"format": "zip", "keys": ["state_dict_model"],
                                      "state_dict": "state_dict_model", "prefix": "module.",
                                      "dtype": "float32", "logits": "logits"}

    # 3. other float dtypes
    for dtype, fname, lkey in ((torch.float16, "micro_model_fp16.pt", "logits_fp16"),
                               (torch.bfloat16, "micro_model_bf16.pt", "logits_bf16"),
                               (torch.float64, "micro_model_f64.pt", "logits")):
        sdc = cast_sd(sd, dtype)
        save({"state_dict_model": sdc}, fname)
        files[fname] = {"format": "zip", "keys": ["state_dict_model"],
                        "state_dict": "state_dict_model", "prefix": "",
                        "dtype": DTYPE_NAMES[dtype], "logits": lkey,
                        "note": "int64 buffers stay int64"}
        if dtype != torch.float64:
            lg, cm = run_model(MICRO, cast_sd(sdc, torch.float64), x)
            micro[lkey] = enc(lg)
            print(f"  {DTYPE_NAMES[dtype]}: max |logit - float32 logit| "
                  f"{(lg - logits).abs().max().item():.2e}")

    # 4. pickle protocols 4 and 5
    for proto in (4, 5):
        fname = f"micro_model_p{proto}.pt"
        save({"state_dict_model": sd}, fname, pickle_protocol=proto)
        files[fname] = {"format": "zip", "keys": ["state_dict_model"],
                        "state_dict": "state_dict_model", "prefix": "", "dtype": "float32",
                        "logits": "logits", "pickle_protocol": proto}

    # 5. strided views and shared storages
    sd_views, biases, counters = views_sd(sd)
    path = save({"state_dict_model": sd_views}, "micro_views.pt")
    back = safe_load(path, quiet=True)["state_dict_model"]
    ptrs = {back[k].storage().data_ptr() for k in biases}
    assert len(ptrs) == 1 and all(back[k].storage_offset() > 0 for k in biases)
    assert len({back[k].storage().data_ptr() for k in counters}) == 1
    for k, v in sd.items():
        assert torch.equal(back[k], v) and back[k].stride() == sd_views[k].stride(), k
    files["micro_views.pt"] = {
        "format": "zip", "keys": ["state_dict_model"], "state_dict": "state_dict_model",
        "prefix": "", "dtype": "float32", "logits": "logits",
        "shared_bias_storage": biases,
        "bias_storage_offsets": [sd_views[k].storage_offset() for k in biases],
        "shared_counter_storage": counters,
        "strides": {k: list(v.stride()) for k, v in sd_views.items()}}
    print(f"  views: {len(biases)} biases share one storage (offsets "
          f"{[sd_views[k].storage_offset() for k in biases][:4]}...), "
          f"{len(counters)} num_batches_tracked share another")

    # 6. safetensors of the full state dict
    write_safetensors(os.path.join(OUT, "micro_model.safetensors"), sd)
    files["micro_model.safetensors"] = {"format": "safetensors", "state_dict": None,
                                        "prefix": "", "dtype": "float32", "logits": "logits",
                                        "metadata": {"format": "pt"}}

    # 7. the pretrained backbone (start_0.pt layout)
    save({"state_dict_backbone": enc_sd}, "micro_backbone.pt")
    files["micro_backbone.pt"] = {"format": "zip", "keys": ["state_dict_backbone"],
                                  "state_dict": "state_dict_backbone", "prefix": "",
                                  "dtype": "float32",
                                  "note": "encoder names without 'encoder.'; params['encoder.'"
                                          "+name] holds each value"}

    # 8./9. ImageNet releases: Microsoft and timm
    nf = model.encoder.num_features
    head_w = torch.randn(IMAGENET_CLASSES, nf, generator=g_extra) / nf ** 0.5
    head_b = 0.1 * torch.randn(IMAGENET_CLASSES, generator=g_extra)
    micro["imagenet_head"] = {"weight": enc(head_w), "bias": enc(head_b)}
    sd_ms = ms_sd(enc_sd, head_w, head_b)
    save({"model": sd_ms}, "micro_ms.pth")
    files["micro_ms.pth"] = {"format": "zip", "keys": ["model"], "state_dict": "model",
                             "prefix": "", "dtype": "float32",
                             "state_dict_keys": keys_of(sd_ms),
                             "note": "encoder without feature.*, plus head.weight/head.bias "
                                     "[10, nf] (values in micro.imagenet_head)"}
    sd_timm = timm_sd(enc_sd, head_w, head_b)
    write_safetensors(os.path.join(OUT, "micro_timm.safetensors"), sd_timm)
    files["micro_timm.safetensors"] = {
        "format": "safetensors", "state_dict": None, "prefix": "", "dtype": "float32",
        "state_dict_keys": keys_of(sd_timm),
        "rename": {f"layers.{i + 1}.downsample.{p}": f"layers.{i}.downsample.{p}"
                   for i in range(len(MICRO["depths"]) - 1)
                   for p in ("norm.weight", "norm.bias", "reduction.weight")},
        "note": "timm >= 0.9 names; no relative_position_index / attn_mask; head.fc.*"}
    expected["micro"] = micro
    # read the derived layouts back and map them to the encoder's names
    back, _ = read_safetensors(os.path.join(OUT, "micro_timm.safetensors"))
    ren = files["micro_timm.safetensors"]["rename"]
    assert len(back) == len(sd_timm)
    for k, v in back.items():
        if k.startswith("head.fc."):
            assert torch.equal(v, {"weight": head_w, "bias": head_b}[k.split(".")[-1]]), k
        else:
            assert torch.equal(v, enc_sd[ren.get(k, k)]), k
    assert not any(skip_buffer(k) for k in back)
    back = safe_load(os.path.join(OUT, "micro_ms.pth"), quiet=True)["model"]
    assert list(back) == list(sd_ms) and all(torch.equal(back[k], sd_ms[k]) for k in back)
    for fname in ("micro_model.pt", "micro_model_module.pt", "micro_model_p4.pt",
                  "micro_model_p5.pt", "micro_model_f64.pt"):
        back = safe_load(os.path.join(OUT, fname), quiet=True)["state_dict_model"]
        prefix = files[fname]["prefix"]
        assert list(back) == [prefix + k for k in sd], fname
        assert all(torch.equal(back[prefix + k].to(v.dtype), v) for k, v in sd.items()), fname
    back, _ = read_safetensors(os.path.join(OUT, "micro_model.safetensors"))
    assert sorted(back) == sorted(sd)
    assert all(torch.equal(back[k], v) and back[k].dtype == v.dtype for k, v in sd.items())

    # ---- knobs
    gk = torch.Generator().manual_seed(SEED + 1)
    kmodel, ksd, kx_nhwc, kx, klogits, kcams = build_variant("knobs", gk)
    save({"state_dict_model": ksd}, "knobs_model.pt")
    files["knobs_model.pt"] = {"format": "zip", "keys": ["state_dict_model"],
                               "state_dict": "state_dict_model", "prefix": "",
                               "dtype": "float32", "logits": "logits", "variant": "knobs"}
    expected["knobs"] = {"variant": KNOBS, "input": enc(kx_nhwc), "logits": enc(klogits),
                         "cams": enc(kcams), "state_dict_keys": keys_of(ksd),
                         "state_dict_dtypes": dtypes_of(ksd)}
    print(f"knobs: {len(ksd)} state-dict entries, "
          f"{sum(p.numel() for p in kmodel.parameters())} parameters; logits[0] "
          f"{[round(v, 4) for v in klogits[0].tolist()]}")

    # ---- format errors
    w = torch.arange(6, dtype=torch.float32).view(2, 3)
    save_legacy({"state_dict_model": collections.OrderedDict([("weight", w)]), "epoch": 1},
                os.path.join(OUT, "legacy.pt"))
    files["legacy.pt"] = {"format": "legacy", "error": "legacy",
                          "note": "pre-1.6 torch.save (_use_new_zipfile_serialization=False): "
                                  "not a zip; starts with pickle protocol 2 and the magic "
                                  "number 0x1950a86a20f9469cfc6c"}
    # only the head-side entries: the file exists to be refused, its size need not grow
    small = collections.OrderedDict((k, sd[k]) for k in ("norm.weight", "norm.bias",
                                                         "head.weight", "head.bias"))
    save({"state_dict_model": small, "args": argparse.Namespace(lr=0.1)}, "args.pt")
    files["args.pt"] = {"format": "zip", "error": "global", "global": "argparse.Namespace",
                        "keys": ["state_dict_model", "args"],
                        "state_dict_keys": keys_of(small)}

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")


# ---------------------------------------------------------------- check mode

def load_state_dict_file(path):
    if path.endswith(".safetensors"):
        sd, meta = read_safetensors(path)
        print(f"safetensors: {len(sd)} tensors, metadata {meta}")
        return sd
    obj = safe_load(path)
    print(f"torch.load: top-level keys {list(obj) if isinstance(obj, dict) else type(obj)}")
    return obj["state_dict_model"]


def decode(e):
    import base64
    a = np.frombuffer(base64.b64decode(e["b64"]), dtype="<f4").astype(np.float64)
    return torch.from_numpy(a.reshape(e["shape"]))


def check_export(path, variant_name):
    with open(os.path.join(OUT, "expected.json")) as f:
        exp = json.load(f)[variant_name]
    try:
        sd = load_state_dict_file(path)
    except (pickle.UnpicklingError, RuntimeError, KeyError, ValueError) as e:
        print(f"cannot load {path}: {type(e).__name__}: {str(e).split('error: ')[-1]}")
        return 1
    counts = collections.Counter(DTYPE_NAMES.get(v.dtype, str(v.dtype)) for v in sd.values())
    print(f"{len(sd)} entries, dtypes {dict(counts)}")
    x = decode(exp["input"]).permute(0, 3, 1, 2).contiguous()
    try:
        logits, cams = run_model(exp["variant"], sd, x)
    except RuntimeError as e:
        print(f"load_state_dict(strict=True) failed:\n{e}")
        return 1
    dl = (logits - decode(exp["logits"])).abs().max().item()
    dc = (cams - decode(exp["cams"])).abs().max().item()
    print(f"max |logit - expected| {dl:.3e}, max |cam - expected| {dc:.3e} (tolerance {TOL})")
    ok = dl <= TOL and dc <= TOL
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


# ---------------------------------------------------------------- inspect mode

def pickle_globals(data):
    """GLOBAL / STACK_GLOBAL names of a pickle stream, plus the opcodes used."""
    names, ops, memo, recent = [], collections.Counter(), {}, []
    for op, arg, _ in pickletools.genops(data):
        ops[op.name] += 1
        if op.name == "GLOBAL":
            names.append(arg.replace(" ", "."))
            recent.append(None)
        elif op.name == "STACK_GLOBAL":
            names.append(f"{recent[-2]}.{recent[-1]}")
            recent.append(None)
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            recent.append(arg)
        elif op.name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[arg] = recent[-1] if recent else None
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            recent.append(memo.get(arg))
        else:
            recent.append(None)
    return list(dict.fromkeys(names)), ops


def inspect_file(path):
    print(f"== {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")
    if path.endswith(".safetensors"):
        with open(path, "rb") as f:
            raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + n])
        print(f"  header {n} bytes, {len(header) - 1} tensors, metadata "
              f"{header.get('__metadata__')}, dtypes "
              f"{dict(collections.Counter(e['dtype'] for k, e in header.items() if k != '__metadata__'))}")
        return
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            raw = f.read()
        print(f"  not a zip; first bytes {raw[:12].hex()}")
        return
    z = zipfile.ZipFile(path)
    entries = z.infolist()
    data = [e for e in entries if "/data/" in e.filename]
    other = [e.filename for e in entries if "/data/" not in e.filename]
    print(f"  {len(entries)} entries: {other} + {len(data)} data records "
          f"({', '.join(e.filename.split('/', 1)[1] for e in data[:4])}"
          f"{', ...' if len(data) > 4 else ''}); compress types "
          f"{sorted({e.compress_type for e in entries})}")
    pkl = [e.filename for e in entries if e.filename.endswith("/data.pkl")][0]
    names, ops = pickle_globals(z.read(pkl))
    print(f"  {pkl}: protocol {z.read(pkl)[1]}, globals {names}")
    print(f"  opcodes {dict(sorted(ops.items()))}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-export", metavar="FILE")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="micro")
    ap.add_argument("--inspect", nargs="*", metavar="FILE")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.check_export:
        sys.exit(check_export(args.check_export, args.variant))
    if args.inspect is not None:
        paths = args.inspect or [os.path.join(OUT, f) for f in sorted(os.listdir(OUT))
                                 if not f.endswith(".json")]
        for p in paths:
            inspect_file(p)
        return
    t0 = time.time()
    make_all()
    total = 0
    for fname in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, fname))
        total += size
        print(f"  {fname:28s} {size / 1024:8.1f} KiB")
    print(f"  {'total':28s} {total / 1024:8.1f} KiB")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
