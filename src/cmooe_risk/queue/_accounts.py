"""Who may use the web queue: accounts, roles, localities, passwords and sign-in.

Accounts live in the queue database beside the items they give access to. Passwords are
hashed with Argon2id (``argon2-cffi``) and never stored, logged or shown. A failed
sign-in is counted against the name as typed, whether or not such an account exists, and
the messages are the same either way: nobody learns which names are accounts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from cmooe_risk.errors import ConfigError, StateError
from cmooe_risk.queue._actions import localities_with_items
from cmooe_risk.queue._schema import ROLES, accounts, sign_in_failures
from cmooe_risk.queue._store import QueueStore, now_utc

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "Account",
    "SignInRefusedError",
    "account_for_name",
    "add_account",
    "disable_account",
    "list_accounts",
    "reset_password",
    "sign_in",
]

#: Shorter passwords are refused (NCSC guidance favours length over composition rules).
MIN_PASSWORD_LENGTH = 12
#: Failed sign-ins allowed for one name within :data:`THROTTLE_WINDOW` before it is
#: refused until the window has passed.
MAX_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,127}")


@dataclass(frozen=True)
class Account:
    """An account as the web app uses it.

    Attributes
    ----------
    username : str
    role : str
        One of :data:`~cmooe_risk.queue.ROLES`.
    localities : tuple of str
        The localities whose items the account sees; empty for an analyst (all).
    disabled : bool
    """

    username: str
    role: str
    localities: tuple[str, ...]
    disabled: bool = False

    @property
    def scope(self) -> tuple[str, ...] | None:
        """Localities the account may read, for the queue's queries; None means all."""
        return None if self.role == "analyst" else self.localities

    @property
    def can_update(self) -> bool:
        """Viewers read; every other role works items."""
        return self.role != "viewer"


class SignInRefusedError(StateError):
    """A sign-in that did not succeed; the message never says which part was wrong."""


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # Argon2id with the library's current recommended parameters


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise ConfigError(
            f"Account name {username!r} is not usable: use lower-case letters, digits and "
            ". _ @ - (up to 128 characters), starting with a letter or digit."
        )
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(
            f"The password is too short: at least {MIN_PASSWORD_LENGTH} characters (a few "
            "unrelated words make a long password that is easy to remember)."
        )


def _check_role(role: str, localities: tuple[str, ...], known: set[str]) -> None:
    if role not in ROLES:
        raise ConfigError(f"Unknown role {role!r}; choose from {', '.join(ROLES)}.")
    if role == "analyst" and localities:
        raise ConfigError("An analyst sees every locality: give no --locality.")
    if role == "caseworker" and len(localities) != 1:
        raise ConfigError(
            "A caseworker works one locality: give exactly one --locality "
            "(a lead may have several)."
        )
    if role in ("lead", "viewer") and not localities:
        raise ConfigError(f"A {role} needs at least one --locality.")
    unknown = sorted(set(localities) - known) if known else []
    if unknown:
        raise ConfigError(
            f"No queue for locality {', '.join(map(repr, unknown))}; localities: "
            f"{', '.join(sorted(known))}."
        )


def _account(row) -> Account:
    return Account(
        username=row["username"],
        role=row["role"],
        localities=tuple(json.loads(row["localities"])),
        disabled=bool(row["disabled"]),
    )


def add_account(
    store: QueueStore,
    username: str,
    *,
    role: str,
    localities: tuple[str, ...] = (),
    password: str | None,
    by: str,
) -> Account:
    """Create an account.

    Parameters
    ----------
    password : str or None
        None creates an account that can sign in only through a trusted proxy's identity
        header (single sign-on), never with a password.
    by : str
        Who created it, for the audit log.

    Raises
    ------
    ConfigError
        A bad name, role, locality or password, or a name already taken.
    """
    name = _check_username(username)
    localities = tuple(dict.fromkeys(localities))
    if password is not None:
        _check_password(password)
    with store.transaction() as connection:
        # before the first published week there are none, and any name is accepted
        _check_role(role, localities, localities_with_items(connection))
        exists = connection.execute(
            select(accounts.c.username).where(accounts.c.username == name)
        ).first()
        if exists:
            raise ConfigError(
                f"There is already an account {name!r}; `cmooe-risk users reset` sets a new "
                "password."
            )
        now = now_utc()
        connection.execute(
            insert(accounts).values(
                username=name,
                password_hash=_hasher().hash(password) if password is not None else None,
                role=role,
                localities=json.dumps(list(localities)),
                disabled=False,
                created_at=now,
                password_set_at=now if password is not None else None,
            )
        )
        store.log(connection, "account_add", by, {"account": name, "role": role})
    return Account(name, role, localities)


def _require(connection, name: str) -> dict:
    row = connection.execute(select(accounts).where(accounts.c.username == name)).mappings()
    found = row.one_or_none()
    if found is None:
        raise ConfigError(f"There is no account {name!r}; `cmooe-risk users list` shows them.")
    return dict(found)


def disable_account(store: QueueStore, username: str, *, by: str) -> Account:
    """Stop an account signing in; its sessions end at their next request."""
    name = _check_username(username)
    with store.transaction() as connection:
        _require(connection, name)
        connection.execute(
            update(accounts).where(accounts.c.username == name).values(disabled=True)
        )
        store.log(connection, "account_off", by, {"account": name})
        return _account(_require(connection, name))


def reset_password(store: QueueStore, username: str, password: str, *, by: str) -> Account:
    """Set a new password (and re-enable the account); its failed sign-ins are forgotten."""
    name = _check_username(username)
    _check_password(password)
    with store.transaction() as connection:
        _require(connection, name)
        connection.execute(
            update(accounts)
            .where(accounts.c.username == name)
            .values(password_hash=_hasher().hash(password), password_set_at=now_utc())
            .values(disabled=False)
        )
        connection.execute(delete(sign_in_failures).where(sign_in_failures.c.username == name))
        store.log(connection, "account_reset", by, {"account": name})
        return _account(_require(connection, name))


def list_accounts(store: QueueStore) -> list[Account]:
    """Every account, by name (no password hashes)."""
    with store.engine.connect() as connection:
        rows = connection.execute(select(accounts).order_by(accounts.c.username)).mappings()
        return [_account(row) for row in rows]


def account_for_name(store: QueueStore, username: str) -> Account | None:
    """The enabled account of that name, or None (a disabled or unknown one)."""
    name = username.strip().lower()
    with store.engine.connect() as connection:
        row = (
            connection.execute(
                select(accounts).where(accounts.c.username == name, accounts.c.disabled.is_(False))
            )
            .mappings()
            .one_or_none()
        )
    return _account(row) if row is not None else None


#: Checked when no account has the name typed, so that a wrong name takes as long to
#: refuse as a wrong password (timing would otherwise tell which names exist).
_DUMMY_HASH: list[str] = []


def sign_in(
    store: QueueStore, username: str, password: str, *, now: datetime | None = None
) -> Account:
    """The account, if the name and password match an enabled account.

    Raises
    ------
    SignInRefusedError
        Wrong name or password, a disabled account, or too many failures for that name in
        the last 15 minutes: the same words for each, but for throttling, which says how
        long to wait.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    now = now or now_utc()
    name = username.strip().lower()[:128]
    hasher = _hasher()
    with store.transaction() as connection:
        failures = connection.execute(
            select(func.count())
            .select_from(sign_in_failures)
            .where(
                sign_in_failures.c.username == name,
                sign_in_failures.c.at > now - THROTTLE_WINDOW,
            )
        ).scalar_one()
        if failures >= MAX_FAILURES:
            store.log(connection, "sign_in_held", name, {})
            raise SignInRefusedError(
                "Too many failed sign-ins for this name. Wait 15 minutes and try again, or "
                "ask your analyst to reset your password."
            )
        row = (
            connection.execute(select(accounts).where(accounts.c.username == name))
            .mappings()
            .one_or_none()
        )
        stored = row["password_hash"] if row is not None else None
        if stored is None:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(hasher.hash("not a password of anyone's"))
            stored, row = _DUMMY_HASH[0], None
        try:
            matched = hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            matched = False
        if matched and row is not None and not row["disabled"]:
            connection.execute(delete(sign_in_failures).where(sign_in_failures.c.username == name))
            store.log(connection, "sign_in", name, {})
            return _account(row)
        connection.execute(insert(sign_in_failures).values(username=name, at=now))
        store.log(connection, "sign_in_failed", name, {})
    raise SignInRefusedError("The name or password is not right, or the account is not active.")
