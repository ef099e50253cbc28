"""A stand-in for `npm` in fetch tests (no network): `python fake_npm.py <package file> [die-half-way]
pack <spec> --pack-destination <dir> …` copies the given package file into <dir>, or writes half of it
and dies as a killed download would."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

source, *rest = sys.argv[1:]
die = rest[:1] == ["die-half-way"]
arguments = rest[1:] if die else rest
destination = Path(arguments[arguments.index("--pack-destination") + 1])
data = Path(source).read_bytes()
target = destination / "package-1.0.0.tgz"
if die:
    target.write_bytes(data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)
target.write_bytes(data)
