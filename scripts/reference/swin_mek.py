"""PyTorch reference of MEK: Swin V1 backbone, SwinTransFER head with class activation
maps, the re-balanced losses (RBL, RAC), and the learning-rate schedule.

Written from the facts in docs/method.md; it exists only to produce golden values for the
TypeScript port (see make_fixtures.py). State-dict names follow Microsoft's Swin V1 so a
checkpoint of the original release loads name for name.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def drop_path(x, drop_prob, training):
    """Stochastic depth: drop the whole residual branch per sample, rescale the survivors."""
    if drop_prob == 0.0 or not training:
        return x
    keep = 1.0 - drop_prob
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class DropPath(nn.Module):
    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact erf GELU


def window_partition(x, w):
    """[B, H, W, C] -> [B*nW, w*w, C], windows in row-major order of the window grid."""
    B, H, W, C = x.shape
    x = x.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, C)


def window_reverse(windows, w, H, W):
    """[B*nW, w*w, C] -> [B, H, W, C]"""
    C = windows.shape[-1]
    B = windows.shape[0] // ((H // w) * (W // w))
    x = windows.view(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, C)


def relative_position_index(w):
    """[w*w, w*w] index into the ((2w-1)^2, heads) bias table for each (query, key) pair."""
    coords = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij"))
    coords = coords.flatten(1)  # [2, w*w]
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)  # [w*w, w*w, 2]
    rel = rel + (w - 1)
    return rel[:, :, 0] * (2 * w - 1) + rel[:, :, 1]


def shifted_window_mask(H, W, w, shift):
    """[nW, w*w, w*w] additive mask: -100 where query and key come from different regions
    of the cyclically shifted image (they are not neighbours in the original image)."""
    img = torch.zeros(1, H, W, 1)
    regions = (slice(0, -w), slice(-w, -shift), slice(-shift, None))
    label = 0
    for hs in regions:
        for ws in regions:
            img[:, hs, ws, :] = label
            label += 1
    win = window_partition(img, w).squeeze(-1)  # [nW, w*w]
    diff = win[:, None, :] - win[:, :, None]
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


class WindowAttention(nn.Module):
    def __init__(self, dim, window_size, num_heads, qkv_bias):
        super().__init__()
        self.window_size = window_size
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window_size - 1) ** 2, num_heads))
        self.register_buffer("relative_position_index", relative_position_index(window_size))
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x, mask=None):
        Bw, N, C = x.shape  # [B*nW, w*w, C]
        h = self.num_heads
        qkv = self.qkv(x).view(Bw, N, 3, h, C // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]  # [B*nW, h, N, C/h]
        attn = q @ k.transpose(-2, -1)  # [B*nW, h, N, N]
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        attn = attn + bias.view(N, N, h).permute(2, 0, 1)[None]
        if mask is not None:
            nW = mask.shape[0]
            attn = attn.view(Bw // nW, nW, h, N, N) + mask[None, :, None].to(attn.dtype)
            attn = attn.view(Bw, h, N, N)
        attn = attn.softmax(-1)
        x = (attn @ v).transpose(1, 2).reshape(Bw, N, C)
        return self.proj(x)


class SwinTransformerBlock(nn.Module):
    def __init__(self, dim, resolution, num_heads, window_size, shift, mlp_ratio, qkv_bias,
                 drop_path_prob):
        super().__init__()
        self.resolution = resolution
        if resolution <= window_size:  # one window covers the stage: nothing to shift
            window_size, shift = resolution, 0
        self.window_size, self.shift = window_size, shift
        # registered before the submodules so it precedes norm1 in the state dict, as in
        # the original checkpoints
        if shift > 0:
            self.register_buffer("attn_mask",
                                 shifted_window_mask(resolution, resolution, window_size, shift))
        else:
            self.attn_mask = None
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window_size, num_heads, qkv_bias)
        self.drop_path = DropPath(drop_path_prob)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        H = W = self.resolution
        B, L, C = x.shape
        w, s = self.window_size, self.shift
        y = self.norm1(x).view(B, H, W, C)
        if s > 0:
            y = torch.roll(y, shifts=(-s, -s), dims=(1, 2))
        y = self.attn(window_partition(y, w), self.attn_mask)
        y = window_reverse(y, w, H, W)
        if s > 0:
            y = torch.roll(y, shifts=(s, s), dims=(1, 2))
        x = x + self.drop_path(y.reshape(B, L, C))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchMerging(nn.Module):
    """Halve the grid, double the channels: [B, H*W, C] -> [B, H/2*W/2, 2C]."""

    def __init__(self, resolution, dim):
        super().__init__()
        self.resolution = resolution
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        H = W = self.resolution
        B, L, C = x.shape
        x = x.view(B, H, W, C)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.view(B, -1, 4 * C)))


class BasicLayer(nn.Module):
    def __init__(self, dim, resolution, depth, num_heads, window_size, mlp_ratio, qkv_bias,
                 drop_path_probs, downsample):
        super().__init__()
        self.blocks = nn.ModuleList([
            SwinTransformerBlock(dim, resolution, num_heads, window_size,
                                 0 if j % 2 == 0 else window_size // 2, mlp_ratio, qkv_bias,
                                 drop_path_probs[j])
            for j in range(depth)])
        self.downsample = PatchMerging(resolution, dim) if downsample else None

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return self.downsample(x) if self.downsample is not None else x


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, in_chans, embed_dim, patch_norm):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim) if patch_norm else None

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)  # [B, H*W, C]
        return self.norm(x) if self.norm is not None else x


class SwinTransformer(nn.Module):
    """Swin V1 encoder with the (unused for FER) face-embedding head `feature`."""

    def __init__(self, img_size=112, patch_size=2, in_chans=3, embed_dim=96,
                 depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7, mlp_ratio=4.0,
                 qkv_bias=True, patch_norm=True, embedding_size=512, drop_path_rate=0.1):
        super().__init__()
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim, patch_norm)
        res = img_size // patch_size
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.layers = nn.ModuleList()
        for i, depth in enumerate(depths):
            last = i == len(depths) - 1
            self.layers.append(BasicLayer(
                embed_dim * 2 ** i, res // 2 ** i, depth, num_heads[i], window_size, mlp_ratio,
                qkv_bias, dpr[sum(depths[:i]):sum(depths[:i + 1])], downsample=not last))
        nf = embed_dim * 2 ** (len(depths) - 1)
        self.num_features = nf
        self.grid = res // 2 ** (len(depths) - 1)
        self.norm = nn.LayerNorm(nf)
        self.feature = nn.Sequential(
            nn.Linear(nf, nf, bias=False), nn.BatchNorm1d(nf, eps=2e-5),
            nn.Linear(nf, embedding_size, bias=False), nn.BatchNorm1d(embedding_size, eps=2e-5))

    def forward_features(self, x):
        """[B, C, H, W] -> last stage tokens [B, G*G, nf], WITHOUT the encoder's final norm."""
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        return x


class SwinTransFER(nn.Module):
    def __init__(self, encoder, num_classes=7):
        super().__init__()
        self.encoder = encoder
        self.norm = nn.LayerNorm(encoder.num_features)
        self.head = nn.Linear(encoder.num_features, num_classes)

    def forward(self, x):
        """x: [B, C, H, W] -> (logits [B, K], cams [B, K, G, G])."""
        tokens = self.norm(self.encoder.forward_features(x))  # [B, G*G, C]
        logits = self.head(tokens.mean(1))
        # the CAM must not train the head: the original multiplies by the detached weight
        cams = torch.einsum("blc,kc->bkl", tokens, self.head.weight.detach())
        G = self.encoder.grid
        return logits, cams.reshape(x.shape[0], -1, G, G)


def build(variant):
    """SwinTransFER from a variant dict (the keys of the fixtures' "variant")."""
    enc = SwinTransformer(
        img_size=variant["img_size"], patch_size=variant["patch_size"],
        in_chans=variant["in_chans"], embed_dim=variant["embed_dim"],
        depths=tuple(variant["depths"]), num_heads=tuple(variant["num_heads"]),
        window_size=variant["window_size"], mlp_ratio=variant["mlp_ratio"],
        qkv_bias=variant["qkv_bias"], patch_norm=variant["patch_norm"],
        embedding_size=variant["embedding_size"], drop_path_rate=variant["drop_path_rate"])
    return SwinTransFER(enc, variant["num_classes"])


# ---------------------------------------------------------------- losses

def balance_weights(counts, normaliser=10.0):
    """w_c = N / (normaliser * n_c)."""
    counts = torch.as_tensor(counts, dtype=torch.float64)
    return counts.sum() / (normaliser * counts)


def rbl_targets(labels, w, eps):
    """[B, K] soft targets: 1-eps on the label, eps over the other classes in proportion to w."""
    B, K = labels.shape[0], w.shape[0]
    onehot = F.one_hot(labels, K).to(w.dtype)
    others = w[None, :] * (1 - onehot)  # [B, K]
    return (1 - eps) * onehot + eps * others / others.sum(1, keepdim=True)


def rbl_loss(logits, labels, w, eps):
    q = rbl_targets(labels, w.to(logits.dtype), eps)
    return -(q * F.log_softmax(logits, -1)).sum(-1).mean()


def class_balanced_weights(counts, beta):
    """Cui et al. 2019: 1 / effective number (1 - beta^n_c) / (1 - beta), normalised so the
    class weights sum to K (average 1). beta 0 gives all ones. Float64."""
    n = torch.as_tensor(counts, dtype=torch.float64)
    effective = (1 - beta ** n) / (1 - beta)
    w = 1 / effective
    return w * len(counts) / w.sum()


def rbl_share_weights(w, prior, tau, mode="balance"):
    """The weights RBL shares its eps by. "balance": w (the paper). With logit adjustment
    (tau > 0) the loss sees z + tau log(prior), so a target mass q_c on a class turns into a raw
    logit of log q_c - tau log prior_c: "neutral" shares in proportion to prior^tau, which
    moves nothing to the rare classes in the raw logits (plain label smoothing at tau 0);
    "adjusted" shares in proportion to w * prior^tau (uniform at tau 1, power 1), which was
    measured to collapse onto the rare classes, as "balance" does."""
    if mode == "balance":
        return w
    p = prior.to(w.dtype) ** tau
    return p if mode == "neutral" else w * p


def classification_loss(logits, labels, w, eps, rbl=True, gamma=0.0, log_prior=None, tau=0.0,
                        sample_weights=None, shares=None):
    """The classification term: per sample the cross-entropy of softmax(z + tau log prior)
    (logit adjustment; tau 0: the plain logits) against the RBL targets (eps shared in
    proportion to `shares`, w when None) or the one-hot label when rbl is off; times
    (1 - p_y)^gamma (focal-style factor, p_y the softmax probability of the true class that the
    loss sees, not detached); times sample_weights[y] (deferred re-weighting) when given; the
    batch mean. gamma 0, tau 0 and no sample weights is rbl_loss / ce_loss."""
    z = logits if not tau else logits + tau * log_prior.to(logits.dtype)
    logp = F.log_softmax(z, -1)
    share = w if shares is None else shares
    q = rbl_targets(labels, share.to(logits.dtype), eps) if rbl else F.one_hot(labels, logits.shape[-1]).to(logits.dtype)
    per_sample = -(q * logp).sum(-1)
    if gamma:
        p_true = logp.gather(1, labels[:, None]).squeeze(1).exp()
        per_sample = per_sample * (1 - p_true) ** gamma
    if sample_weights is not None:
        per_sample = per_sample * sample_weights.to(logits.dtype)[labels]
    return per_sample.mean()


def rac_loss(cams, cams_flipped_input, w):
    """cams of x and of flip(x) [B, K, G, G]; the second is flipped back along width."""
    diff = (cams - cams_flipped_input.flip(-1)) ** 2
    per_class = diff.mean(dim=(2, 3))  # [B, K]
    return (per_class @ w.to(cams.dtype)).mean()


# ---- the consistency variants of issue 18 (loss.rac_normalize, rac_classes, rac_weights,
# lambda_warmup_steps), written from their formulas; the defaults are rac_loss above.

MAP_STANDARDISE_EPS = 1e-5
RAC_WEIGHT_BOUND = 1.0


def rac_class_weights(w, mode="balance"):
    """RAC's class weights from the balance weights w: "balance" w (the paper), "mean1"
    w / mean(w), "bounded" min(w, 1), "uniform" ones."""
    if mode == "balance":
        return w
    if mode == "mean1":
        return w / w.mean()
    if mode == "bounded":
        return w.clamp(max=RAC_WEIGHT_BOUND)
    if mode == "uniform":
        return torch.ones_like(w)
    raise ValueError(f"rac weights {mode}")


def standardise_maps(maps, eps=MAP_STANDARDISE_EPS):
    """[B, K, G, G]: each map minus its grid mean, over sqrt(its grid variance (population) + eps)."""
    mean = maps.mean(dim=(2, 3), keepdim=True)
    var = ((maps - mean) ** 2).mean(dim=(2, 3), keepdim=True)
    return (maps - mean) / torch.sqrt(var + eps)


def true_pred_mask(logits, labels):
    """[B, K]: 1 on each sample's label and on the argmax of its (detached) clean logits."""
    K = logits.shape[-1]
    pred = logits.detach().argmax(-1)
    return torch.maximum(F.one_hot(labels, K), F.one_hot(pred, K)).to(logits.dtype)


def rac_variant_loss(cams, cams_flipped_input, w, normalize="none", class_mask=None):
    """rac_loss with the variants: "per_class" standardises each map of both views before the
    squared difference; class_mask [B, K] keeps only the marked classes of each sample (the rest
    count 0, nothing renormalised); w as given (see rac_class_weights). Batch mean."""
    a, b = cams, cams_flipped_input.flip(-1)
    if normalize == "per_class":
        a, b = standardise_maps(a), standardise_maps(b)
    elif normalize != "none":
        raise ValueError(f"rac normalize {normalize}")
    per_class = ((a - b) ** 2).mean(dim=(2, 3))  # [B, K]
    if class_mask is not None:
        per_class = per_class * class_mask
    return (per_class @ w.to(cams.dtype)).mean()


def lambda_at(step, lam, warmup_steps=0, warm_start_steps=0):
    """RAC's weight at step (0-based): lam, or ramped linearly lam * min(1, s / warmup_steps)
    with s the steps since the end of the warm start."""
    if warmup_steps <= 0:
        return lam
    return lam * min(1.0, max(0, step - warm_start_steps) / warmup_steps)


def ce_loss(logits, labels):
    return F.cross_entropy(logits, labels)


def mek_loss(model, x, labels, w, eps=0.3, lam=0.1):
    """x: [B, C, H, W]. Returns dict of losses plus the forward outputs."""
    logits, cams = model(x)
    logits_f, cams_f = model(x.flip(-1))
    rbl = rbl_loss(logits, labels, w, eps)
    rac = rac_loss(cams, cams_f, w)
    return {"rbl": rbl, "rac": rac, "total": rbl + lam * rac, "ce": ce_loss(logits, labels),
            "logits": logits, "cams": cams, "logits_flip": logits_f, "cams_flip": cams_f}


# ---------------------------------------------------------------- schedule

def cosine_lr(t, base_lr, warmup_lr_init, lr_min, warmup_t, t_initial):
    """timm CosineLRScheduler (one cycle, warmup_prefix=False) stepped per iteration."""
    if t < warmup_t:
        return warmup_lr_init + t * (base_lr - warmup_lr_init) / warmup_t
    if t < t_initial:
        return lr_min + 0.5 * (base_lr - lr_min) * (1 + math.cos(math.pi * t / t_initial))
    return lr_min
