"""Throwaway PostgreSQL and Chroma servers on free loopback ports, for the live (``scale``) tests.

Why real servers: the scale path differs from the default one exactly in what talks to them --
psycopg, LangGraph's PostgreSQL checkpointer, Alembic on PostgreSQL, Chroma's HTTP client -- so a
fake would test nothing of it. Each server lives in its own temp folder, listens on 127.0.0.1
only, and is stopped and deleted when its context ends.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from train.serving.embedded import free_port, stop_process

POSTGRES_HINT = ("install Debian's PostgreSQL server: `apt-get install -y postgresql` "
                 "(`bash scripts/install_postgres.sh` does it)")
CHROMA_HINT = "install the project into .venv: `bash scripts/install.sh`"
START_TIMEOUT_S = 60.0


class ServerMissing(RuntimeError):
    """A server binary the live tests need is not installed; the message says how to get it."""


def _version(bindir: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in bindir.parent.name.split(".") if p.isdigit())


def postgres_bindir() -> Path:
    """The newest Debian PostgreSQL server folder (``/usr/lib/postgresql/N/bin``), else the one
    ``initdb`` is in on PATH."""
    found = sorted((p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
                   key=_version)
    if found:
        return found[-1]
    on_path = shutil.which("initdb")
    if on_path and Path(on_path).with_name("pg_ctl").exists():
        return Path(on_path).parent
    raise ServerMissing(f"PostgreSQL's initdb and pg_ctl were not found; {POSTGRES_HINT}")


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` system user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServerMissing(f"running as root, but there is no 'postgres' user to run the "
                            f"server as; {POSTGRES_HINT}") from None
    return "postgres"


def _run(cmd: list[str], user: str | None) -> None:
    full = ["runuser", "-u", user, "--", *cmd] if user else cmd
    done = subprocess.run(full, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed ({done.returncode}): "
                           f"{(done.stdout + done.stderr)[-2000:]}")


@contextmanager
def postgres_cluster(bindir: Path) -> Iterator[str]:
    """A new cluster (trust auth, loopback only, fsync off: throwaway data) for the duration
    of the block. Yields its SQLAlchemy server URL without a database name."""
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="ptool-pg-"))  # not under pytest's root-only temp dir
    if user:
        shutil.chown(root, user=user)
    data, port = root / "data", free_port()
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
              "-E", "UTF8", "--no-sync"], user)
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
              str(root / "server.log"), "-w", "-t", str(int(START_TIMEOUT_S)), "start"], user)
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        finally:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], user)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def chroma_executable() -> Path:
    """The ``chroma`` command installed next to this Python (chromadb's CLI)."""
    beside = Path(sys.executable).with_name("chroma")
    found = beside if beside.exists() else shutil.which("chroma")
    if not found:
        raise ServerMissing(f"chromadb's `chroma` command was not found; {CHROMA_HINT}")
    return Path(found)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma run exited ({proc.returncode}): "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"chroma run did not answer within {START_TIMEOUT_S:.0f} s")


@contextmanager
def chroma_server(executable: Path) -> Iterator[str]:
    """``chroma run`` on a free loopback port with a temp data folder; yields its URL."""
    root = Path(tempfile.mkdtemp(prefix="ptool-chroma-"))
    port, log = free_port(), root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(executable), "run", "--path", str(root / "data"),
                                 "--host", "127.0.0.1", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        stop_process(proc)
        shutil.rmtree(root, ignore_errors=True)
