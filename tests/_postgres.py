"""A throwaway PostgreSQL cluster for tests, started and stopped by the tests themselves.

The cluster lives in a private temporary directory and listens only on a Unix
socket inside it, so no TCP port can clash with another test run or with a
PostgreSQL server already on the machine.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import URL

SUPERUSER = "postgres"
DEFAULT_DBNAME = "cmooe_test"

# The port only names the socket file: the socket directory is private, so a
# fixed port cannot collide with anything.
_PORT = 5432
# Unix socket paths are limited to 107 bytes (sun_path). Below the temporary
# directory come "/cmooe-pg-XXXXXXXX/socket/.s.PGSQL.5432.lock" (44 bytes).
_MAX_TMPDIR_LEN = 60
_COMMAND_TIMEOUT = 120
_LOG_TAIL_LINES = 20


class PostgresUnavailable(RuntimeError):  # noqa: N818 - a condition to skip on, not a bug
    """A temporary PostgreSQL server cannot be started on this machine.

    Parameters
    ----------
    reason : str
        Why not, precise enough to act on (what is missing, or the server log tail).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def find_postgres_bin_dir() -> Path:
    """Locate the directory holding ``initdb`` and ``pg_ctl``.

    ``PATH`` wins; otherwise the newest ``/usr/lib/postgresql/<version>/bin``,
    where Debian and Ubuntu install the server without putting it on ``PATH``.

    Returns
    -------
    pathlib.Path
        A directory containing both executables.

    Raises
    ------
    PostgresUnavailable
        If no such directory exists.
    """
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        # Resolve symlinks so pg_ctl comes from the same installation as initdb.
        candidates.append(Path(initdb).resolve().parent)
    debian_dirs = Path("/usr/lib/postgresql").glob("*/bin")
    candidates.extend(sorted(debian_dirs, key=_version_key, reverse=True))
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "pg_ctl")):
            return directory
    raise PostgresUnavailable(
        "initdb/pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin "
        "(install the PostgreSQL server, e.g. `apt-get install postgresql`)"
    )


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name))


def _require_psycopg() -> None:
    if importlib.util.find_spec("psycopg") is None:
        raise PostgresUnavailable(
            "psycopg is not installed (pip install 'cmooe-risk[postgres]' or 'psycopg[binary]')"
        )


def _server_user() -> pwd.struct_passwd | None:
    """The account to run the server as, or None for the current user.

    PostgreSQL refuses to run as root, so root hands the cluster to ``postgres``.
    """
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root and there is no 'postgres' system user to run the server as"
        ) from None


def _as_user(command: Sequence[str], user: pwd.struct_passwd | None) -> list[str]:
    if user is None:
        return list(command)
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user.pw_name, "--", *command]
    su = shutil.which("su")
    if su:
        return [su, user.pw_name, "-s", "/bin/sh", "-c", shlex.join(command)]
    raise PostgresUnavailable("running as root and neither runuser nor su is available")


def _run(
    command: Sequence[str], user: pwd.struct_passwd | None, cwd: Path, what: str
) -> subprocess.CompletedProcess[str]:
    # PG* variables (PGDATA, PGPORT, PGHOST...) from the developer's shell would
    # silently redirect the tools to another cluster.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    try:
        # cwd: the server user usually cannot enter the caller's directory (/root).
        result = subprocess.run(
            _as_user(command, user),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PostgresUnavailable(f"{what} timed out after {_COMMAND_TIMEOUT} s") from None
    except OSError as exc:
        raise PostgresUnavailable(f"{what} could not be run: {exc}") from None
    if result.returncode != 0:
        output = _tail((result.stdout + result.stderr).splitlines())
        raise PostgresUnavailable(f"{what} failed (exit {result.returncode}):\n{output}")
    return result


def _tail(lines: Sequence[str]) -> str:
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def _log_tail(log_file: Path) -> str:
    try:
        return _tail(log_file.read_text(errors="replace").splitlines()) or "(server log empty)"
    except OSError:
        return "(no server log)"


def _private_root() -> Path:
    base = tempfile.gettempdir()
    # A long TMPDIR would push the socket path past the sun_path limit.
    if len(base) > _MAX_TMPDIR_LEN:
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix="cmooe-pg-", dir=base))


def _server_settings(socket_dir: Path) -> dict[str, str]:
    quoted_dir = str(socket_dir).replace("'", "''")
    return {
        "listen_addresses": "''",
        "unix_socket_directories": f"'{quoted_dir}'",
        "port": str(_PORT),
        # Speed over durability: the cluster is deleted at exit, so a crash loses nothing.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }


def _create_database(socket_dir: Path, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(
            host=str(socket_dir),
            port=_PORT,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        ) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise PostgresUnavailable(f"could not create database {dbname!r}: {exc}") from None


@contextlib.contextmanager
def temporary_postgres(dbname: str = DEFAULT_DBNAME) -> Iterator[str]:
    """Run a throwaway PostgreSQL cluster for the duration of the block.

    The cluster is created with ``initdb -A trust``, listens only on a Unix
    socket in a private temporary directory, and is stopped (``pg_ctl -m
    immediate``) and deleted on exit, whatever happens in the block. As root
    the server runs as the ``postgres`` system user.

    Parameters
    ----------
    dbname : str, optional
        Name of the empty database created for the caller.

    Yields
    ------
    str
        SQLAlchemy URL of that database, of the form
        ``postgresql+psycopg://postgres@/DBNAME?host=SOCKETDIR&port=5432``,
        with SOCKETDIR percent-encoded (``%2Ftmp%2F...``) as SQLAlchemy renders it.

    Raises
    ------
    PostgresUnavailable
        Before yielding, if the server cannot be provided: psycopg or the
        PostgreSQL binaries are missing, there is no ``postgres`` user to run
        it as root, or ``initdb``/``pg_ctl start`` failed (with the log tail).

    Examples
    --------
    >>> with temporary_postgres() as url:  # doctest: +SKIP
    ...     engine = sqlalchemy.create_engine(url)
    """
    _require_psycopg()
    bin_dir = find_postgres_bin_dir()
    user = _server_user()

    root = _private_root()
    data_dir = root / "data"
    socket_dir = root / "socket"
    log_file = root / "server.log"
    pg_ctl = str(bin_dir / "pg_ctl")
    started = False
    try:
        socket_dir.mkdir()
        if user is not None:
            # initdb insists on owning the data directory, and the server must
            # write its socket and log; root keeps access regardless.
            for path in (root, socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)

        _run(
            [
                str(bin_dir / "initdb"),
                "--pgdata",
                str(data_dir),
                "--auth=trust",
                f"--username={SUPERUSER}",
                "--encoding=UTF8",
                # C locale: containers often lack the caller's locale, which
                # makes initdb fail.
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            user,
            root,
            "initdb",
        )
        # Settings go in postgresql.conf rather than `pg_ctl -o`, whose string
        # passes through a shell and would need quoting for the empty
        # listen_addresses and for unusual temporary paths.
        with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# cmooe-risk test cluster\n")
            for name, value in _server_settings(socket_dir).items():
                conf.write(f"{name} = {value}\n")

        # From here a postmaster may exist even if pg_ctl reports failure (for
        # instance on a wait timeout), so cleanup must try to stop it.
        started = True
        try:
            _run(
                [
                    pg_ctl,
                    "--pgdata",
                    str(data_dir),
                    "--log",
                    str(log_file),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                user,
                root,
                "pg_ctl start",
            )
        except PostgresUnavailable as exc:
            raise PostgresUnavailable(
                f"{exc.reason}\nserver log ({log_file.name}):\n{_log_tail(log_file)}"
            ) from None

        _create_database(socket_dir, dbname)
        url = URL.create(
            "postgresql+psycopg",
            username=SUPERUSER,
            database=dbname,
            query={"host": str(socket_dir), "port": str(_PORT)},
        )
        yield url.render_as_string(hide_password=False)
    finally:
        if started:
            # Best effort: a failed stop must not mask the test's own outcome.
            with contextlib.suppress(PostgresUnavailable):
                _run(
                    [pg_ctl, "--pgdata", str(data_dir), "-m", "immediate", "-w", "stop"],
                    user,
                    root,
                    "pg_ctl stop",
                )
        shutil.rmtree(root, ignore_errors=True)
