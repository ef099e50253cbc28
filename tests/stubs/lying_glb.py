"""A small GLB like the ones TRELLIS returns: a vertex-coloured mesh with no texture, lying on its back
(the object's height runs along +Z instead of +Y). Written by hand so the stub does not use app code."""

from __future__ import annotations

import json
import struct

import numpy as np

WIDTH, HEIGHT, DEPTH = 0.5, 1.0, 0.3  # upright dimensions (x, y, z)


def lying_box_glb() -> bytes:
    """A box 1.0 tall (in +Z, lying down) with per-vertex colours."""
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (0, 1) for z in (-1, 1)], dtype=np.float32)
    upright = corners * np.array([WIDTH / 2, HEIGHT, DEPTH / 2], dtype=np.float32)
    lying = np.stack([upright[:, 0], -upright[:, 2], upright[:, 1]], axis=1).astype(np.float32)  # +90° about X
    colours = np.tile(np.array([[0.8, 0.3, 0.2, 1.0]], dtype=np.float32), (8, 1))
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    indices = np.array([[a, b, c, a, c, d] for a, b, c, d in faces], dtype=np.uint16).reshape(-1)
    blobs = [lying.tobytes(), colours.tobytes(), indices.tobytes()]
    offsets = np.cumsum([0] + [len(b) for b in blobs[:-1]]).tolist()
    binary = b"".join(blobs)
    document = {
        "asset": {"version": "2.0", "generator": "trellis-stub (trimesh-like export)"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "COLOR_0": 1}, "indices": 2}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 8, "type": "VEC3",
             "min": lying.min(axis=0).tolist(), "max": lying.max(axis=0).tolist()},
            {"bufferView": 1, "componentType": 5126, "count": 8, "type": "VEC4"},
            {"bufferView": 2, "componentType": 5123, "count": len(indices), "type": "SCALAR"},
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": offsets[0], "byteLength": len(blobs[0]), "target": 34962},
            {"buffer": 0, "byteOffset": offsets[1], "byteLength": len(blobs[1]), "target": 34962},
            {"buffer": 0, "byteOffset": offsets[2], "byteLength": len(blobs[2]), "target": 34963},
        ],
        "buffers": [{"byteLength": len(binary)}],
    }  # fmt: skip
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(binary), 0x004E4942) + binary
    return b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body
