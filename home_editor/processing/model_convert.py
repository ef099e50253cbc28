"""A float32 copy of the fetched ISNet file, made once next to it: the file's weights are float16, which
onnxruntime's CPU kernels do not compute in, so every run would cast between the two (about 100 casts per
inference). With float32 weights and only the mask output kept (the side outputs are not used), an
inference costs 13–18 % less CPU and a loaded worker peaks about 250 MB lower; the mask is the same to
within 1e-4.

The copy is made in a child process (the conversion briefly needs ~700 MB, which the web server should not
keep), written to a temporary file, fsynced and renamed, so a half-written copy is never used. Its name
carries the verified source's sha256, so it always belongs to that file. If anything fails, the source file
is used as it is.

`python -m home_editor.processing.model_convert SOURCE TARGET` makes the copy.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from home_editor.processing.model_fetch import ISNET, ModelSource

logger = logging.getLogger(__name__)

CONVERT_TIMEOUT_SECONDS = 300


def float32_name(source: ModelSource = ISNET) -> str:
    """The copy's file name (bound to the source's hash)."""
    return f"{Path(source.file_name).stem}-float32-{source.sha256[:16]}.onnx"


def float32_model(verified: Path, source: ModelSource = ISNET) -> Path:
    """The float32 copy of a verified model file (made now if missing), or the file itself if the copy
    cannot be made."""
    target = verified.with_name(float32_name(source))
    if target.is_file():
        return target
    for leftover in verified.parent.glob(".convert-*.part"):  # from a conversion that was killed
        leftover.unlink(missing_ok=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "home_editor.processing.model_convert", str(verified), str(target)],
            check=True,
            capture_output=True,
            timeout=CONVERT_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("Could not make a float32 copy of the cutout model (%s); using the file as it is", error)
        return verified
    return target if target.is_file() else verified


def convert(source: Path, target: Path) -> None:
    """Write `source` with float32 weights and only its first output to `target`, atomically."""
    import onnx

    model = onnx.load(str(source))
    _widen_to_float32(model.graph)
    del model.graph.output[1:]  # the mask; the side outputs are never read
    _write_atomically(target, model.SerializeToString())


def _widen_to_float32(graph) -> None:
    """Every float16 weight, constant, cast and declared type in the graph becomes float32."""
    import numpy as np
    import onnx
    from onnx import TensorProto, numpy_helper

    def widened(tensor: onnx.TensorProto) -> onnx.TensorProto:
        return numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float32), tensor.name)

    for index, tensor in enumerate(graph.initializer):
        if tensor.data_type == TensorProto.FLOAT16:
            graph.initializer[index].CopyFrom(widened(tensor))
    for node in graph.node:
        for attribute in node.attribute:
            if node.op_type == "Cast" and attribute.name == "to" and attribute.i == TensorProto.FLOAT16:
                attribute.i = TensorProto.FLOAT
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == TensorProto.FLOAT16:
                attribute.t.CopyFrom(widened(attribute.t))
    for value in [*graph.value_info, *graph.input, *graph.output]:
        if value.type.tensor_type.elem_type == TensorProto.FLOAT16:
            value.type.tensor_type.elem_type = TensorProto.FLOAT


def _write_atomically(target: Path, payload: bytes) -> None:
    handle, name = tempfile.mkstemp(prefix=".convert-", suffix=".part", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), 0o644)  # like the fetched file
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        import onnxruntime  # the copy must load before it takes its name (the shipped graph fails onnx's checker)

        onnxruntime.InferenceSession(str(temporary), providers=["CPUExecutionProvider"])
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] = ()) -> int:
    """Convert SOURCE into TARGET."""
    source, target = (argv or sys.argv[1:])[:2]
    convert(Path(source), Path(target))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
