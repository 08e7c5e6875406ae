"""Folders written atomically (a temporary folder renamed into place) with the user's umask.

``tempfile.mkdtemp`` makes its folder mode 0700 whatever the umask (and ``mkstemp`` files 0600);
a checkpoint or model folder renamed from it would stay private. ``temp_folder`` and
``apply_umask`` give the modes ``mkdir`` and ``open`` would give instead.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read by setting and restoring it, so under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def temp_folder(parent: Path, prefix: str) -> Path:
    """A new uniquely named folder in ``parent``, mode 0777 less the umask (as ``mkdir`` makes)."""
    path = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    os.chmod(path, 0o777 & ~current_umask())
    return path


def apply_umask(folder: Path) -> None:
    """Give ``folder`` and everything in it the modes ``open``/``mkdir`` would under the umask.

    Some writers (``save_pretrained``'s shards) go through ``mkstemp`` files, mode 0600.
    """
    mask = current_umask()
    os.chmod(folder, 0o777 & ~mask)
    for path in folder.rglob("*"):
        if path.is_symlink():
            continue
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)
