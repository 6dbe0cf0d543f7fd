"""Files on disk: atomic writes, checks of the paths a user gives, and file-system errors as one clear line.

Every write of the learning core goes through `write_bytes` (safetensors, images and plots are serialised to
bytes first), so a full disk or a missing permission is always an OSError naming the file, which the `rig`
command turns into one line (`describe`). The output paths a user gives are checked before any work starts.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rig_core.errors import RigError


def problem(error: OSError) -> str:
    """What went wrong, in words: `no space left on device`, `notes.txt is a file, not a directory`, ..."""
    if error.filename is not None and error.errno in (errno.ENOTDIR, errno.EEXIST):
        path = Path(error.filename)
        blocker = next((p for p in (*reversed(path.parents), path) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            return f"{blocker} is a file, not a directory"
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]


def describe(error: OSError) -> str:
    """`<path>: <problem>` for any file-system error, e.g. `runs/a/metrics.csv: no space left on device`."""
    return problem(error) if error.filename is None else f"{error.filename}: {problem(error)}"


def output_dir(path: Path, option: str) -> None:
    """Create `path` (and its parents) if needed and check that files can be written in it; RigError if not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RigError(f"{option} {path}: cannot create it: {problem(error)}") from None
    probe = path / f".rig-write-test-{os.getpid()}"
    try:
        write_bytes(probe, b"")
        probe.unlink()
    except OSError as error:
        raise RigError(f"{option} {path}: cannot write in it: {problem(error)}") from None


def output_file(path: Path, option: str) -> None:
    """Check that `path` can be a file (not a directory) and create its directory; RigError if not."""
    if path.is_dir():
        raise RigError(f"{option} {path}: it is a directory, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RigError(f"{option} {path}: cannot create its directory: {problem(error)}") from None


@contextmanager
def writing(path: Path, option: str) -> Iterator[None]:
    """Turn a file-system error while writing the file a user named into a RigError naming it."""
    try:
        yield
    except OSError as error:
        raise RigError(f"{option} {path}: cannot write it: {problem(error)}") from None


def input_file(path: Path, what: str) -> None:
    """Check that `path` is an existing file; RigError if not."""
    if not path.exists():
        raise RigError(f"{what} {path}: it does not exist")
    if path.is_dir():
        raise RigError(f"{what} {path}: it is a directory, not a file")


def input_dir(path: Path, option: str) -> None:
    """Check that `path` is an existing directory; RigError if not."""
    if not path.exists():
        raise RigError(f"{option} {path}: it does not exist")
    if not path.is_dir():
        raise RigError(f"{option} {path}: it is a file, not a directory")


def write_bytes(path: Path, data: bytes, mode: str = "wb") -> None:
    """Write (mode "wb") or append (mode "ab") `data`; an OSError always names `path` (a failed write alone
    would not: a full disk shows when the data is written or flushed, after the file was opened)."""
    try:
        with path.open(mode) as handle:
            handle.write(data)
    except OSError as error:
        if error.filename is None:
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file and a rename: `path` holds the old or the new data, never half of it."""
    write_all_atomic({path: data})


def write_all_atomic(files: dict[Path, bytes]) -> None:
    """Write every file to a temporary first, then rename them in order: a full disk or any error while writing
    leaves every old file as it was."""
    temporaries = {path: path.with_name(path.name + ".tmp") for path in files}
    try:
        for path, data in files.items():
            write_bytes(temporaries[path], data)
    except BaseException:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)  # a partial file would only take space
        raise
    for path, temporary in temporaries.items():
        os.replace(temporary, path)
