"""Hostile inputs for scripts/probe/hostile.sh (issue 13): PyTorch files that lie about their
tensors or inflate, pickles that nest or repeat without end. Needs Debian's python3-torch.

    /usr/bin/python3 scripts/probe/make_hostile.py OUT_DIR
"""
import io
import os
import sys
import zipfile

import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(name, obj):
    torch.save(obj, os.path.join(out, name))
    print("wrote", name)


# stride-0 views far larger than their one-element storage
save("expand_2e28.pt", {"state_dict_model": {"head.weight": torch.zeros(1).expand(2 ** 28)}})
save("expand_2e31x2e31.pt", {"state_dict_model": {"head.weight": torch.zeros(1, 1).expand(2 ** 31, 2 ** 31)}})


def zip_pt(name, records, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(os.path.join(out, name), "w", compression=compress) as z:
        for rec, data in records:
            z.writestr(rec, data)
    print("wrote", name)


# a deflated record of 1 GiB of zeros in a ~1 MB file (torch.save never compresses)
buf = io.BytesIO()
torch.save({"state_dict_model": {"w": torch.zeros(4)}}, buf)
with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
    records = [(n, z.read(n)) for n in z.namelist()]
data_name = [n for n, _ in records if n.endswith("/data/0")][0]
with zipfile.ZipFile(os.path.join(out, "deflate_bomb.pt"), "w") as z:
    for n, d in records:
        if n == data_name:
            z.writestr(zipfile.ZipInfo(n), b"\0" * (1 << 30), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        else:
            z.writestr(n, d)
print("wrote deflate_bomb.pt")

# a pickle whose only dict key is a list nested 100,000 deep
depth = 100_000
nested = bytes([0x80, 2, 0x7D]) + b"]" * depth + b"a" * (depth - 1) + b"Ns."
zip_pt("nested_key.pt", [("archive/data.pkl", nested), ("archive/version", b"3\n")])

# a "billion laughs": 40 levels of (x, x), used as a storage id
laughs = bytes([0x80, 2, 0x5D]) + bytes([0x32, 0x86]) * 40 + b"Q."
zip_pt("laughs.pt", [("archive/data.pkl", laughs), ("archive/version", b"3\n")])
