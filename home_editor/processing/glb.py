"""A small glTF 2.0 binary (GLB) writer and reader: one textured mesh in, a valid `.glb` out (header,
JSON and BIN chunks, 4-byte alignment, accessor bounds, buffer-view targets); and a fix for models that
arrive lying on their back.
"""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from typing import Any

import numpy as np

from home_editor.core.errors import TransientError

MAGIC = b"glTF"
JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942
ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125


@dataclasses.dataclass(frozen=True)
class Mesh:
    """Triangles with per-vertex normals and texture coordinates (float32 arrays, uint32 indices)."""

    positions: np.ndarray  # (n, 3)
    normals: np.ndarray  # (n, 3), unit length
    uvs: np.ndarray  # (n, 2)
    indices: np.ndarray  # (m * 3,)


def _pad(data: bytes, filler: bytes) -> bytes:
    return data + filler * (-len(data) % 4)


class _Buffer:
    """Collects binary blocks as 4-byte-aligned buffer views."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []

    def add(self, block: bytes, target: int | None = None) -> int:
        self.data += b"\0" * (-len(self.data) % 4)
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(block)}
        if target is not None:
            view["target"] = target
        self.data += block
        self.views.append(view)
        return len(self.views) - 1


def write_glb(mesh: Mesh, texture_png: bytes, *, generator: str, extras: dict[str, Any]) -> bytes:
    """Encode a textured mesh as a GLB.

    Args:
        mesh: The geometry.
        texture_png: The base colour texture (PNG, alpha used as a mask at 0.5).
        generator: `asset.generator` (say honestly what made the file).
        extras: `asset.extras`.

    Returns:
        The `.glb` bytes.
    """
    buffer = _Buffer()
    positions = np.ascontiguousarray(mesh.positions, dtype=np.float32)
    count = len(positions)
    index_type, index_dtype = (UNSIGNED_SHORT, np.uint16) if count <= 65535 else (UNSIGNED_INT, np.uint32)
    indices = np.ascontiguousarray(mesh.indices, dtype=index_dtype)
    views = [
        buffer.add(positions.tobytes(), ARRAY_BUFFER),
        buffer.add(np.ascontiguousarray(mesh.normals, dtype=np.float32).tobytes(), ARRAY_BUFFER),
        buffer.add(np.ascontiguousarray(mesh.uvs, dtype=np.float32).tobytes(), ARRAY_BUFFER),
        buffer.add(indices.tobytes(), ELEMENT_ARRAY_BUFFER),
        buffer.add(texture_png),
    ]
    accessors = [
        {"bufferView": views[0], "componentType": FLOAT, "count": count, "type": "VEC3",
         "min": positions.min(axis=0).tolist(), "max": positions.max(axis=0).tolist()},
        {"bufferView": views[1], "componentType": FLOAT, "count": count, "type": "VEC3"},
        {"bufferView": views[2], "componentType": FLOAT, "count": count, "type": "VEC2"},
        {"bufferView": views[3], "componentType": index_type, "count": len(indices), "type": "SCALAR"},
    ]  # fmt: skip
    document = {
        "asset": {"version": "2.0", "generator": generator, "extras": extras},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "object"}],
        "meshes": [
            {"primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2}, "indices": 3, "material": 0}]}
        ],
        "materials": [
            {
                "pbrMetallicRoughness": {
                    "baseColorTexture": {"index": 0},
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.9,
                },
                "alphaMode": "MASK",
                "alphaCutoff": 0.5,
            }
        ],
        "samplers": [{"magFilter": 9729, "minFilter": 9987, "wrapS": 33071, "wrapT": 33071}],
        "textures": [{"source": 0, "sampler": 0}],
        "images": [{"bufferView": views[4], "mimeType": "image/png"}],
        "accessors": accessors,
        "bufferViews": buffer.views,
        "buffers": [{"byteLength": len(buffer.data)}],
    }
    return pack_glb(document, bytes(buffer.data))


def pack_glb(document: dict[str, Any], binary: bytes) -> bytes:
    """Assemble header, JSON chunk (space-padded) and BIN chunk (zero-padded)."""
    json_chunk = _pad(json.dumps(document, separators=(",", ":")).encode(), b" ")
    bin_chunk = _pad(binary, b"\0")
    chunks = struct.pack("<II", len(json_chunk), JSON_CHUNK) + json_chunk
    if binary:
        chunks += struct.pack("<II", len(bin_chunk), BIN_CHUNK) + bin_chunk
    return MAGIC + struct.pack("<II", 2, 12 + len(chunks)) + chunks


def read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a GLB into its JSON document and binary chunk; raise TransientError if it is not one."""
    try:
        magic, version, length = struct.unpack_from("<4sII", data, 0)
        if magic != MAGIC or version != 2 or length != len(data):
            raise ValueError("not a GLB 2.0 file")
        json_length, json_type = struct.unpack_from("<II", data, 12)
        if json_type != JSON_CHUNK:
            raise ValueError("the first chunk is not JSON")
        document = json.loads(data[20 : 20 + json_length])
        binary = b""
        offset = 20 + json_length
        if offset + 8 <= len(data):
            bin_length, bin_type = struct.unpack_from("<II", data, offset)
            if bin_type == BIN_CHUNK:
                binary = data[offset + 8 : offset + 8 + bin_length]
    except (struct.error, ValueError) as error:
        raise TransientError("The 3D model is not a valid GLB file.") from error
    if not isinstance(document, dict) or "asset" not in document:
        raise TransientError("The 3D model is not a valid GLB file.")
    return document, binary


def stand_upright(data: bytes) -> bytes:
    """A model exported lying on its back, rotated −90° about X so it stands up (a new root node)."""
    document, binary = read_glb(data)
    scene_index = document.get("scene", 0)
    scenes = document.get("scenes") or [{"nodes": list(range(len(document.get("nodes", []))))}]
    roots = scenes[scene_index].get("nodes", [])
    half = math.sqrt(0.5)
    document.setdefault("nodes", []).append({"name": "upright", "rotation": [-half, 0.0, 0.0, half], "children": roots})
    scenes[scene_index]["nodes"] = [len(document["nodes"]) - 1]
    document["scenes"] = scenes
    return pack_glb(document, binary)
