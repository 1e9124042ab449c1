"""Leases on built versions of dist/. A server holds a shared lock on the version folder it serves
for as long as it runs; a build's tidy-up removes a version only when it can take the lock for
itself, and holds it while removing. The kernel drops a lease when its process ends, however it ends."""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


def hold(dist: Path) -> tuple[Path, int]:
    """The version dist points at now, and a lease on it (a file descriptor to keep open)."""
    while True:
        version = Path(dist).resolve()
        lease = os.open(version, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(lease, fcntl.LOCK_SH)
        if (version / "licn.nq").exists():  # not removed between the look and the lock
            return version, lease
        os.close(lease)
        if version == Path(dist).resolve():
            raise FileNotFoundError(f"{version / 'licn.nq'} does not exist: run 'licn build' first")


@contextlib.contextmanager
def unleased(version: Path):
    """Yields whether nobody holds a lease on version; if nobody does, none can take one until the
    block ends."""
    try:
        lease = os.open(version, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield True
        return
    try:
        fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lease)
        yield False
        return
    try:
        yield True
    finally:
        os.close(lease)
