"""The MLP policy file (format "fewshot-mlp", version 1) that the C library loads as the
policy mlp:FILE: export from PyTorch modules and a NumPy forward pass of the same maths."""
import json

import numpy as np

ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu"}


def export(path, linears, activations, obs_mean=None, obs_std=None, obs_clip=0.0,
           low=None, high=None, squash="clip", meta=None):
    """Write the network to path. linears: torch.nn.Linear layers in order; activations: one
    of "tanh", "relu", "linear" per layer. Observations are normalized as (obs - mean) / std
    and clipped to +-obs_clip (0: no clip); the output is squashed into [-1, 1] ("clip",
    "tanh" or "none") and mapped onto [low, high] when both are given."""
    layers = []
    for lin, act in zip(linears, activations):
        w = lin.weight.detach().cpu().double().numpy()
        b = lin.bias.detach().cpu().double().numpy()
        layers.append({"weight": w.tolist(), "bias": b.tolist(), "activation": act})
    doc = {"format": "fewshot-mlp", "version": 1,
           "obs_dim": int(linears[0].in_features), "act_dim": int(linears[-1].out_features),
           "layers": layers}
    if obs_mean is not None:
        doc["obs_norm"] = {"mean": [float(v) for v in obs_mean],
                           "std": [float(v) for v in obs_std], "clip": float(obs_clip)}
    action = {"squash": squash}
    if low is not None and high is not None:
        action["low"] = [float(v) for v in low]
        action["high"] = [float(v) for v in high]
    doc["action"] = action
    if meta:
        doc["meta"] = meta
    with open(path, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    return doc


def forward(doc, obs):
    """The action the file's network gives for obs (NumPy, double precision)."""
    x = np.asarray(obs, dtype=np.float64)
    norm = doc.get("obs_norm")
    if norm:
        x = (x - np.asarray(norm["mean"])) / np.asarray(norm["std"])
        if norm.get("clip", 0) > 0:
            x = np.clip(x, -norm["clip"], norm["clip"])
    for layer in doc["layers"]:
        x = np.asarray(layer["weight"]) @ x + np.asarray(layer["bias"])
        act = layer.get("activation", "linear")
        x = np.tanh(x) if act == "tanh" else np.maximum(x, 0) if act == "relu" else x
    action = doc.get("action", {})
    sq = action.get("squash", "none") if action else "none"
    x = np.clip(x, -1, 1) if sq == "clip" else np.tanh(x) if sq == "tanh" else x
    if "low" in action:
        low, high = np.asarray(action["low"]), np.asarray(action["high"])
        x = low + (x + 1.0) * 0.5 * (high - low)
    return x
