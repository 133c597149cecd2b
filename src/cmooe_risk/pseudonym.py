"""Keyed pseudonyms for pupil identifiers (HMAC-SHA256).

The hash is computed inside DuckDB, so a hundred-million-row extract is
pseudonymised in set operations instead of a Python loop. HMAC is built from
SHA-256 as RFC 2104 defines it; a test checks it against :mod:`hmac`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError

__all__ = [
    "DISPLAY_LENGTH",
    "PSEUDONYM_LENGTH",
    "PseudonymKey",
    "generate_key_file",
    "load_key",
    "shown",
]

#: Hex characters kept: 80 bits, so collisions are negligible even nationally
#: (about 4e-11 for 10 million pupils).
PSEUDONYM_LENGTH = 20
#: Characters of a pseudonym shown to people (queue list and show, packs, workbooks, the
#: web queue): the same everywhere, so a child can be followed from one to another.
#: 48 bits: two children of a million-pupil LA share a shown prefix with a chance of
#: about 0.2%; the full pseudonym stays in the data, and items are found by number.
DISPLAY_LENGTH = 12
_MIN_KEY_LENGTH = 16
_BLOCK = 64  # SHA-256 block size in bytes


@dataclass(frozen=True)
class PseudonymKey:
    """An HMAC key; its repr never shows the secret."""

    secret: bytes
    source: str

    def __repr__(self) -> str:
        return f"PseudonymKey(source={self.source!r})"

    def pseudonymise(self, identifier: str) -> str:
        """Pseudonym of one identifier (for tests and the re-identification map)."""
        digest = hmac.new(self.secret, identifier.encode("utf-8"), hashlib.sha256).hexdigest()
        return digest[:PSEUDONYM_LENGTH]

    def sql(self, column: str) -> str:
        """SQL expression for the pseudonym of ``column``; binds ``$ipad`` and ``$opad``."""
        inner = f"unhex(sha256($ipad || encode({column})))"
        return f"substr(sha256($opad || {inner}), 1, {PSEUDONYM_LENGTH})"

    def params_for(self, sql: str) -> dict[str, bytes] | None:
        """Bind parameters for ``sql`` if it uses :meth:`sql` (DuckDB rejects unused ones)."""
        return self.sql_params() if "$ipad" in sql else None

    def sql_params(self) -> dict[str, bytes]:
        key = self.secret
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        return {
            "ipad": bytes(byte ^ 0x36 for byte in key),
            "opad": bytes(byte ^ 0x5C for byte in key),
        }


def load_key(workspace: Workspace) -> PseudonymKey:
    """The key from the configured environment variable, else from the key file."""
    settings = workspace.config.pseudonymisation
    from_env = os.environ.get(settings.key_env)
    if from_env:
        return _checked(from_env.strip().encode("utf-8"), f"${settings.key_env}")
    path = workspace.key_file
    if path.exists():
        return _checked(path.read_text(encoding="utf-8").strip().encode("utf-8"), str(path))
    raise ConfigError(
        f"No pseudonymisation key: set the environment variable {settings.key_env} or create "
        f"the key file {path} (`cmooe-risk keygen` makes one). Keep the key safe: with it, "
        "the same pupil gets the same pseudonym every week."
    )


def _checked(secret: bytes, source: str) -> PseudonymKey:
    if len(secret) < _MIN_KEY_LENGTH:
        raise ConfigError(
            f"The pseudonymisation key from {source} is too short ({len(secret)} characters); "
            f"use at least {_MIN_KEY_LENGTH}, e.g. from `cmooe-risk keygen`."
        )
    return PseudonymKey(secret=secret, source=source)


def generate_key_file(path: Path) -> Path:
    """Write a new random key, readable only by its owner; refuses to overwrite one."""
    if path.exists():
        raise ConfigError(f"A key file already exists at {path}; refusing to overwrite it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def shown(pseudonym: str) -> str:
    """A pseudonym as people see it: its first :data:`DISPLAY_LENGTH` characters."""
    return str(pseudonym)[:DISPLAY_LENGTH]
