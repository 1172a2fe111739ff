"""One Snakemake run at a time in a run folder: the workflow's own lock, which cannot race.

Snakemake's lock (``.snakemake/locks/``) is a check for lock files followed by writing its own: two
runs started in the same instant can both pass the check (seen in 1 of 24 simultaneous launches), and
then both run the same jobs, writing the same outputs. The Snakefile's ``onstart`` handler therefore
also takes an exclusive ``flock`` on ``.snakemake/musicsom.lock`` (:func:`acquire`): the kernel grants
it to one process only, and releases it when that process exits, however it exits. There is never a
stale lock to remove, so ``snakemake --unlock`` has nothing to do with it.

``onstart`` runs only in the main Snakemake process of a run that executes jobs, once the jobs are
known and before the first starts: not for a dry run (``-n``), ``--unlock``, ``--lint``, ``--report``,
``--list-*`` or ``--summary``, and not inside the jobs (Snakemake runs them with ``--no-hooks``, and
the Snakefile checks ``workflow.is_main_process``). ``--nolock`` skips it as it skips Snakemake's lock.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import logging
import os
import shlex
import socket
import sys
from pathlib import Path

__all__ = ["LOCK_FILE", "RunLocked", "acquire", "release"]

LOCK_FILE = ".snakemake/musicsom.lock"
log = logging.getLogger("musicsom")
# the descriptor of the lock this process holds (an int: nothing closes it before the process exits)
_held: dict[str, int] = {}


class RunLocked(RuntimeError):
    """Another process holds the run lock of this folder; the message names it and what to do."""


def _holder_text(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}


def acquire(path: str | os.PathLike = LOCK_FILE) -> int | None:
    """Take the exclusive lock on ``path`` without waiting, for the life of this process.

    Returns the lock's file descriptor (``None`` where the file system has no ``flock``: a warning, and
    the run goes on under Snakemake's lock alone). Raises :class:`RunLocked` when another process holds
    it. The holder's PID, host, start time and command are written into the file for that message.
    """
    path = Path(path)
    key = str(path.absolute())
    if key in _held:
        return _held[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = _holder_text(fd)
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            log.warning("cannot lock %s (%s): two runs started at the same instant in this folder are not refused",
                        path, exc.strerror)
            return None
        raise RunLocked(_refusal(path, holder)) from None
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": shlex.join(sys.argv)[:500],
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
    _held[key] = fd
    return fd


def release(path: str | os.PathLike = LOCK_FILE) -> None:
    """Give the lock back before the process exits (tests; Snakemake's runs keep it to the end)."""
    fd = _held.pop(str(Path(path).absolute()), None)
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the flock


def _refusal(path: Path, holder: dict) -> str:
    pid, host = holder.get("pid"), holder.get("host")
    who = (f"PID {pid} on {host}, started {holder.get('started')}: {holder.get('command')}" if pid
           else "its details are not written yet: it started at this instant")
    wait = (f"`while kill -0 {pid} 2>/dev/null; do sleep 60; done`" + (f" on {host}" if host != socket.gethostname() else "")
            if pid else "until it ends")
    return (
        f"another Snakemake run is running in this folder ({who}); two runs would run the same jobs and write "
        f"the same outputs. Wait for it to finish ({wait}) or stop it, then start this run again. "
        f"`snakemake --unlock` does not apply: this lock ({path.absolute()}) is held by that process and ends with it. "
        "A dry run (-n) is not refused."
    )
