"""The local 2.5D relief GLB and the GLB helpers, checked by the Khronos glTF validator."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest
from PIL import Image

from home_editor.core.errors import BadInputError, TransientError
from home_editor.processing.glb import read_glb, stand_upright
from home_editor.processing.local_processor import cut_out
from home_editor.processing.relief import GENERATOR, relief_glb
from tests.gltf_validator import validate
from tests.images import encode, object_photo
from tests.stubs.lying_glb import lying_box_glb


def cutout_of(shape: str, size: int = 1024) -> bytes:
    photo, _ = object_photo("plain", shape, size=size)
    return cut_out(encode(Image.fromarray(photo), "PNG"), max_pixels=50_000_000).png


@pytest.mark.parametrize(
    "shape", ["ellipse", "ring", "border", "box"], ids=["convex", "with-hole", "touching-border", "box"]
)
def test_relief_glbs_pass_the_validator_with_no_errors_or_warnings(shape: str) -> None:
    glb = relief_glb(cutout_of(shape))
    report = validate(glb)
    assert (report["numErrors"], report["numWarnings"]) == (0, 0), report["messages"]
    assert len(glb) <= 2.5 * 2**20


def test_the_relief_says_honestly_what_it_is() -> None:
    document, _ = read_glb(relief_glb(cutout_of("ellipse", 256)))
    assert document["asset"]["generator"] == GENERATOR and "not a 3D reconstruction" in GENERATOR
    assert document["asset"]["extras"]["home_editor"] == {
        "kind": "2.5D preview", "reconstruction": False, "method": "poisson-inflated silhouette",
    }  # fmt: skip


def test_the_relief_stands_upright_on_the_ground_facing_the_viewer() -> None:
    document, _ = read_glb(relief_glb(cutout_of("box", 256)))
    accessor = document["accessors"][document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]]
    (_, low_y, low_z), (_, high_y, high_z) = accessor["min"], accessor["max"]
    assert low_y == pytest.approx(0, abs=0.02)  # stands on y = 0
    assert high_y - low_y > high_z - low_z  # taller than deep (the photo's box is taller than wide)
    assert high_z > 0 > low_z  # a front and a back


def test_the_hole_of_a_ring_stays_open() -> None:
    document, binary = read_glb(relief_glb(cutout_of("ring", 256)))
    accessor = document["accessors"][0]
    view = document["bufferViews"][accessor["bufferView"]]
    positions = np.frombuffer(binary, np.float32, accessor["count"] * 3, view["byteOffset"]).reshape(-1, 3)
    centre = np.array([0.0, 0.45])  # the ring's centre, in model units
    assert np.linalg.norm(positions[:, :2] - centre, axis=1).min() > 0.1


def test_an_empty_cutout_is_bad_input() -> None:
    empty = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(empty, "PNG")
    with pytest.raises(BadInputError):
        relief_glb(empty.getvalue())


def test_a_model_lying_on_its_back_is_stood_up() -> None:
    upright = stand_upright(lying_box_glb())
    document, _ = read_glb(upright)
    root = document["nodes"][document["scenes"][0]["nodes"][0]]
    assert root["rotation"] == pytest.approx([-(0.5**0.5), 0, 0, 0.5**0.5])
    lo, hi = np.array(document["accessors"][0]["min"]), np.array(document["accessors"][0]["max"])
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    stood = np.stack([corners[:, 0], corners[:, 2], -corners[:, 1]], axis=1)  # −90° about X
    extent = stood.max(axis=0) - stood.min(axis=0)
    assert extent[1] == pytest.approx(1.0) and extent[1] > extent[0] > extent[2]  # tallest along +Y
    report = validate(upright)
    assert (report["numErrors"], report["numWarnings"]) == (0, 0), report["messages"]


@pytest.mark.parametrize(
    "data",
    [b"", b"<html>not a model</html>", b"glTF" + struct.pack("<II", 1, 12), b"glTF" + struct.pack("<II", 2, 999)],
)
def test_anything_but_a_glb_is_refused(data: bytes) -> None:
    with pytest.raises(TransientError, match="not a valid GLB"):
        stand_upright(data)


def test_json_chunk_is_padded_to_four_bytes() -> None:
    glb = relief_glb(cutout_of("ellipse", 128))
    json_length = struct.unpack_from("<I", glb, 12)[0]
    assert json_length % 4 == 0 and len(glb) % 4 == 0
    assert json.loads(glb[20 : 20 + json_length])["asset"]["version"] == "2.0"
