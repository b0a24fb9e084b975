"""Real processes for the fault runs: a private Redis, a private PostgreSQL cluster,
gunicorn and Celery workers, each started by a fixture and stopped by it.

These tests double the run time, so they run only with RUN_FAULTS=1 (the third stage of
.ci/run). Without it they are deselected, not skipped: with REQUIRE_SERVICES=1 a skip is
a failure (tests/conftest.py).

The shared PostgreSQL and Redis of the other test runs are never stopped, paused or
flushed here; every outage is staged on a server this file started.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RUN_FAULTS = os.environ.get("RUN_FAULTS") == "1"
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


def pytest_collection_modifyitems(config, items):
    if RUN_FAULTS:
        return
    ours = [item for item in items if HERE in Path(str(item.path)).parents]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if item not in set(ours)]


# Processes.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def child_env(**extra) -> dict:
    """The environment of a server process: nothing of pytest's, no shared services unless named."""
    drop = ("PYTEST", "DJANGO_SETTINGS", "CACHE_URL", "CELERY_BROKER_URL", "DATABASE_URL", "VAR_DIR", "REQUIRE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_ENV": "development", "LOG_LEVEL": "INFO"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Process:
    """A child process whose output goes to a file (a pipe nobody reads would block it)."""

    def __init__(self, name: str, args: list[str], *, env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 -- closed in stop()
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self, sig=signal.SIGKILL) -> None:
        """Signal the whole process group (a prefork worker's children too)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.popen.wait(5)
        else:
            self.kill(signal.SIGKILL)  # children left behind by a killed parent
        self._log.close()


class Redis:
    """A private redis-server on its own port, to be shut down, restarted and paused."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.pidfile = workdir / f"redis-{self.port}.pid"
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str, timeout: float = 5) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ping(self) -> bool:
        try:
            return self.cli("ping", timeout=2).stdout.strip() == "PONG"
        except subprocess.TimeoutExpired:
            return False

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
                "--dir",
                str(self.workdir),
                "--logfile",
                str(self.workdir / f"redis-{self.port}.log"),
            ],
            check=True,
        )
        wait_for(self.ping, timeout=10, what=f"redis on {self.port}")

    def shutdown(self) -> None:
        self.cli("shutdown", "nosave")
        wait_for(lambda: not self.ping(), timeout=10, what="redis to stop")

    def pause(self, milliseconds: int) -> None:
        assert self.cli("client", "pause", str(milliseconds), "all").stdout.strip() == "OK"

    def kill(self) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int(self.pidfile.read_text().strip()), signal.SIGKILL)


class Postgres:
    """A private PostgreSQL cluster owned by the postgres user (initdb refuses root)."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pgfault-", dir="/tmp"))
        shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/faults"

    def _as_postgres(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*runner, "bash", "-c", command], capture_output=True, text=True, timeout=timeout, cwd=self.dir
        )

    def init(self) -> None:
        result = self._as_postgres(f"{PG_BIN}/initdb -D {self.data} -U postgres --auth=trust -E UTF8 >/dev/null")
        assert result.returncode == 0, result.stderr

    def start(self) -> None:
        # One line for -o: pg_ctl hands it to a shell, and a newline drops the rest.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        result = self._as_postgres(f"{PG_BIN}/pg_ctl -D {self.data} -w -l {self.dir}/log -o '{options}' start")
        assert result.returncode == 0, result.stdout + result.stderr

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(f"{PG_BIN}/pg_ctl -D {self.data} -w -m {mode} stop")

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-tAc", sql],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def destroy(self) -> None:
        self._as_postgres(f"{PG_BIN}/pg_ctl -D {self.data} -w -m immediate stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def shared_database_url() -> str:
    """The URL of the database pytest-django made, for the server processes to share."""
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def production_env(**extra) -> dict:
    """A production configuration (DEBUG off, generic error pages) served over plain HTTP."""
    return child_env(
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        CONN_MAX_AGE="60",
        **extra,
    )


class Gunicorn(Process):
    def __init__(self, *, env: dict, log_dir: Path, workers: int = 2, threads: int = 8):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{self.port}"]
        args += ["-w", str(workers), "--threads", str(threads), "--timeout", "60", "--backlog", "2048"]
        super().__init__("gunicorn", args, env=env, log_dir=log_dir)

    def wait_ready(self, timeout: float = 30) -> None:
        def ready():
            assert self.alive(), self.log()[-3000:]
            try:
                return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=timeout, interval=0.2, what="gunicorn")


def celery_args(*roles: str, queue: str, schedule: Path | None = None, pool: str = "solo", concurrency: int = 1):
    """``worker`` (with ``-B`` when "beat" is also given) or a lone ``beat``."""
    base = [sys.executable, "-m", "celery", "-A", "config"]
    if "worker" in roles:
        args = [*base, "worker", "-l", "INFO", "-Q", queue, "--pool", pool, "--without-gossip", "--without-mingle"]
        if pool != "solo":
            args += ["--concurrency", str(concurrency)]
        args += ["-n", f"w{uuid.uuid4().hex[:6]}@%h"]
        if "beat" in roles:
            args += ["-B", "-s", str(schedule)]
        return args
    return [*base, "beat", "-l", "INFO", "-s", str(schedule)]


@pytest.fixture
def processes(tmp_path):
    """Start processes through this; every one is stopped at the end, even after a failure."""
    started: list[Process] = []

    def start(cls_or_name, args=None, **kwargs):
        if isinstance(cls_or_name, str):
            process = Process(cls_or_name, args, log_dir=tmp_path, **kwargs)
        else:
            process = cls_or_name(log_dir=tmp_path, **kwargs)
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture
def redis_server(tmp_path):
    servers: list[Redis] = []

    def start() -> Redis:
        server = Redis(tmp_path)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()


@pytest.fixture
def postgres_cluster():
    if PG_BIN is None or shutil.which("runuser") is None:
        pytest.fail("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) and runuser are needed")
    cluster = Postgres()
    try:
        cluster.init()
        cluster.start()
        cluster.psql("CREATE DATABASE faults")
        yield cluster
    finally:
        cluster.destroy()


def mail_files(folder: Path) -> list[str]:
    """The dedupe key of every message the file mailer wrote, one entry per file."""
    keys = []
    for path in sorted(folder.glob("*.eml")):
        header = [line for line in path.read_text(errors="replace").splitlines() if line.startswith("X-Dedupe-Key:")]
        keys.append(header[0].split(":", 1)[1].strip() if header else path.name)
    return keys
