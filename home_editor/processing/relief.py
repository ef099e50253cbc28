"""The local "2.5D preview": a smooth, inflated relief built from a cutout's silhouette and textured with
the cutout. Without a model the only honest geometry is the outline, so the back mirrors the front and
the depth is invented; the file and the page say so.

Height: solve −∇²z = 1 inside the silhouette (z = 0 outside) on a grid of at most GRID cells, then a
square-root profile gives a rounded "balloon". Front and back height fields share the rim, so the mesh
is closed.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage, sparse
from scipy.sparse.linalg import spsolve

from home_editor.core.errors import BadInputError
from home_editor.processing.glb import Mesh, write_glb

GRID = 128
DEPTH_RATIO = 0.12  # half-thickness at the thickest point, relative to the longer side
TEXTURE_SIDE = 1024
GENERATOR = "home_editor 2.5D relief preview (inflated silhouette; not a 3D reconstruction)"


def _cropped(image: Image.Image) -> tuple[Image.Image, np.ndarray]:
    rgba = image.convert("RGBA")
    alpha = np.asarray(rgba.getchannel("A"))
    rows, cols = np.nonzero(alpha >= 128)
    if rows.size == 0:
        raise BadInputError("The cutout is empty: there is no object to make a model of.")
    box = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    crop = rgba.crop(box)
    return crop, np.asarray(crop.getchannel("A")) >= 128


def _heights(mask: np.ndarray) -> np.ndarray:
    """Poisson "inflation" of a mask: sqrt of the solution of −∇²z = 1 inside, 0 outside, max 1."""
    inside = np.pad(mask, 1)
    index = -np.ones(inside.shape, dtype=np.int64)
    index[inside] = np.arange(int(inside.sum()))
    rows, cols = np.nonzero(inside)
    entries_r, entries_c, values = [np.arange(len(rows))], [np.arange(len(rows))], [np.full(len(rows), 4.0)]
    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        neighbour = index[rows + dr, cols + dc]
        keep = neighbour >= 0
        entries_r.append(np.nonzero(keep)[0])
        entries_c.append(neighbour[keep])
        values.append(-np.ones(int(keep.sum())))
    size = len(rows)
    laplacian = sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(entries_r), np.concatenate(entries_c))), shape=(size, size)
    )
    solution = spsolve(laplacian, np.ones(size))
    height = np.zeros(inside.shape)
    height[rows, cols] = np.sqrt(np.maximum(solution, 0) / max(solution.max(), 1e-9))
    return height[1:-1, 1:-1]


def _grid_mask(mask: np.ndarray) -> tuple[np.ndarray, float]:
    """The mask on at most GRID cells along the longer side (a cell is in if most of it is)."""
    height, width = mask.shape
    cell = max(height, width) / GRID
    if cell <= 1:
        return mask, 1.0
    cells = (max(1, round(height / cell)), max(1, round(width / cell)))
    small = Image.fromarray(mask.astype(np.uint8) * 255).resize(cells[::-1], Image.Resampling.BOX)
    return np.asarray(small) >= 128, cell


def build_mesh(mask: np.ndarray) -> Mesh:
    """A closed relief mesh over the grid mask, 1 unit tall or wide, standing on y = 0, facing +Z."""
    grid, _ = _grid_mask(mask)
    grid = ndimage.binary_opening(grid) if grid.sum() > 64 else grid
    if not grid.any():
        raise BadInputError("The object is too small to make a model of.")
    rows, cols = grid.shape
    cell_height = _heights(grid)
    # Corner points: height is the mean of the touching cells, and 0 on the rim (any touching cell out).
    padded_in = np.pad(grid, 1)
    padded_h = np.pad(cell_height, 1)
    touching_in = [padded_in[r : r + rows + 1, c : c + cols + 1] for r in (0, 1) for c in (0, 1)]
    touching_h = [padded_h[r : r + rows + 1, c : c + cols + 1] for r in (0, 1) for c in (0, 1)]
    any_in = np.logical_or.reduce(touching_in)
    all_in = np.logical_and.reduce(touching_in)
    corner_h = np.where(all_in, sum(touching_h) / 4.0, 0.0)
    scale = 1.0 / max(rows, cols)
    depth = DEPTH_RATIO * corner_h
    ys, xs = np.mgrid[0 : rows + 1, 0 : cols + 1]
    front_id = -np.ones((rows + 1, cols + 1), dtype=np.int64)
    front_id[any_in] = np.arange(int(any_in.sum()))
    back_needed = any_in & all_in  # rim points are shared by front and back
    back_id = front_id.copy()
    back_id[back_needed] = any_in.sum() + np.arange(int(back_needed.sum()))

    def points(select: np.ndarray, sign: float) -> np.ndarray:
        return np.stack([(xs[select] - cols / 2) * scale, (rows - ys[select]) * scale, sign * depth[select]], axis=-1)

    positions = np.concatenate([points(any_in, 1.0), points(back_needed, -1.0)])
    uvs = np.concatenate([np.stack([xs[s] / cols, ys[s] / rows], axis=-1) for s in (any_in, back_needed)])
    r, c = np.nonzero(grid)
    a, b, d, e = front_id[r, c], front_id[r, c + 1], front_id[r + 1, c], front_id[r + 1, c + 1]
    front = np.stack([a, d, b, b, d, e], axis=-1).reshape(-1, 3)  # counter-clockwise seen from +Z
    a, b, d, e = back_id[r, c], back_id[r, c + 1], back_id[r + 1, c], back_id[r + 1, c + 1]
    back = np.stack([a, b, d, b, e, d], axis=-1).reshape(-1, 3)
    triangles = np.concatenate([front, back])
    return Mesh(positions=positions.astype(np.float32), normals=_normals(positions, triangles),
                uvs=uvs.astype(np.float32), indices=triangles.reshape(-1).astype(np.uint32))  # fmt: skip


def _normals(positions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    corners = positions[triangles]
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.zeros_like(positions)
    for k in range(3):
        np.add.at(normals, triangles[:, k], face)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    fallback = np.array([0.0, 0.0, 1.0])
    return np.where(length > 1e-12, normals / np.maximum(length, 1e-12), fallback).astype(np.float32)


def _texture(crop: Image.Image) -> bytes:
    """The cropped cutout, ≤ 1024 px, with transparent texels given the nearest opaque colour (so
    mipmaps show no fringe of the old background)."""
    size = tuple(_power_of_two(side) for side in crop.size)  # UVs are relative: stretching is harmless
    pixels = np.asarray(crop.resize(size, Image.Resampling.LANCZOS)).copy()
    opaque = pixels[..., 3] >= 128
    if not opaque.all():
        _, (near_r, near_c) = ndimage.distance_transform_edt(~opaque, return_indices=True)
        pixels[..., :3] = pixels[near_r, near_c, :3]
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGBA").save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def _power_of_two(side: int) -> int:
    """The nearest power of two, between 16 and TEXTURE_SIDE (GPUs and the validator prefer them)."""
    return int(min(max(2 ** round(np.log2(max(side, 1))), 16), TEXTURE_SIDE))


def relief_glb(cutout_png: bytes) -> bytes:
    """The 2.5D relief GLB of an RGBA cutout."""
    crop, mask = _cropped(Image.open(io.BytesIO(cutout_png)))
    mesh = build_mesh(mask)
    extras = {"home_editor": {"kind": "2.5D preview", "reconstruction": False, "method": "poisson-inflated silhouette"}}
    return write_glb(mesh, _texture(crop), generator=GENERATOR, extras=extras)
