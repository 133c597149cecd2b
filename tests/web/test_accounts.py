"""Accounts: roles and localities checked, passwords hashed with Argon2id, the CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests._cli import run_cli
from tests.web.conftest import PASSWORD

from cmooe_risk.errors import ConfigError
from cmooe_risk.queue import (
    SignInRefusedError,
    add_account,
    list_accounts,
    reset_password,
    sign_in,
)
from cmooe_risk.queue._schema import accounts, audit_log


def test_the_real_password_hash_is_argon2id_with_a_memory_hard_cost(monkeypatch):
    monkeypatch.undo()  # the fixture's cheap parameters, off: the ones an LA gets
    from argon2 import extract_parameters

    from cmooe_risk.queue._accounts import _hasher

    parameters = extract_parameters(_hasher().hash("a long enough password"))
    assert parameters.type.name == "ID"
    assert parameters.memory_cost >= 19 * 1024  # KiB: OWASP's minimum for Argon2id


@pytest.mark.parametrize(
    ("role", "localities", "message"),
    [
        ("caseworker", (), "exactly one --locality"),
        ("caseworker", ("North", "South"), "exactly one --locality"),
        ("lead", (), "at least one --locality"),
        ("analyst", ("North",), "give no --locality"),
        ("boss", ("North",), "Unknown role 'boss'"),
        ("viewer", ("Narnia",), "No queue for locality 'Narnia'; localities: North, South"),
    ],
)
def test_roles_and_localities_are_checked_naming_the_bad_value(queue, role, localities, message):
    with pytest.raises(ConfigError, match=message):
        add_account(
            queue.store, "new-one", role=role, localities=localities, password=PASSWORD, by="t"
        )


def test_bad_names_short_passwords_and_duplicates_are_refused(queue):
    def add(name, password=PASSWORD):
        add_account(
            queue.store, name, role="viewer", localities=("North",), password=password, by="t"
        )

    with pytest.raises(ConfigError, match="Account name '<b>' is not usable"):
        add("<b>")
    with pytest.raises(ConfigError, match="at least 12 characters"):
        add("short-one", "abc")
    with pytest.raises(ConfigError, match="already an account 'viewer'"):
        add("Viewer")  # names are case-insensitive


def test_no_password_is_stored_or_logged_and_reset_clears_the_throttle(queue):
    for _ in range(5):
        with pytest.raises(SignInRefusedError):
            sign_in(queue.store, "north-worker", "a wrong password here")
    with pytest.raises(SignInRefusedError, match="Too many"):
        sign_in(queue.store, "north-worker", PASSWORD)
    new_password = "another long passphrase"
    reset_password(queue.store, "north-worker", new_password, by="analyst")
    assert sign_in(queue.store, "north-worker", new_password).role == "caseworker"
    with queue.store.engine.connect() as connection:
        stored = connection.execute(select(accounts.c.password_hash)).scalars().all()
        logged = connection.execute(select(audit_log.c.detail, audit_log.c.actor)).all()
    assert all(h.startswith("$argon2id$") for h in stored)
    text = json.dumps([tuple(r) for r in logged]) + "".join(stored)
    for secret in (PASSWORD, new_password, "a wrong password here"):
        assert secret not in text


def test_an_account_for_single_sign_on_has_no_password_to_guess(queue):
    add_account(
        queue.store, "sso-only", role="viewer", localities=("South",), password=None, by="t"
    )
    with pytest.raises(SignInRefusedError, match="not right"):
        sign_in(queue.store, "sso-only", "")
    assert [a.username for a in list_accounts(queue.store)].count("sso-only") == 1


# the command line is the same on both databases: once, on the embedded one
@pytest.mark.parametrize("queue", ["sqlite"], indirect=True)
def test_the_users_commands(queue, tmp_path):
    workspace = ["--workspace", str(queue.workspace.root)]
    added = run_cli(
        [
            *workspace,
            "users",
            "add",
            "Jo.Bloggs@council.example",
            "--role",
            "lead",
            "--locality",
            "North",
            "--locality",
            "South",
            "--password-stdin",
        ],
        tmp_path,
        stdin="a perfectly long password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "Added jo.bloggs@council.example: lead, North, South." in added.stdout
    listed = run_cli([*workspace, "users", "list"], tmp_path)
    assert "jo.bloggs@council.example" in listed.stdout
    assert "a perfectly long password" not in listed.stdout + listed.stderr
    short = run_cli(
        [*workspace, "users", "reset", "jo.bloggs@council.example", "--password-stdin"],
        tmp_path,
        stdin="short\n",
    )
    assert short.returncode == 3
    assert "at least 12 characters" in short.stderr
    assert "Traceback" not in short.stderr
    disabled = run_cli([*workspace, "users", "disable", "jo.bloggs@council.example"], tmp_path)
    assert disabled.returncode == 0
    assert "Disabled jo.bloggs@council.example." in disabled.stdout
    # nothing published in an empty workspace: a clear error, and nothing created
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run_cli(["--workspace", str(empty), "users", "list"], tmp_path)
    assert refused.returncode == 5
    not_served = run_cli(["--workspace", str(empty), "serve"], tmp_path)
    assert not_served.returncode == 5
    assert "Nothing has been published" in not_served.stderr
    assert "Serving" not in not_served.stdout  # it never claims to serve
    assert list(empty.iterdir()) == []


def test_the_demo_makes_a_caseworker_account_and_says_how_to_sign_in(queue):
    import re

    from cmooe_risk.demo import DEMO_ACCOUNT, _demo_account

    for _ in range(2):  # a second demo in the same workspace gives a new password
        (line,) = _demo_account(queue.workspace, ["North", "South"])
        password = re.search(r"with the password (\S+) ", line).group(1)
        assert "serve" in line
        assert "http://127.0.0.1:8080/" in line
        account = sign_in(queue.store, DEMO_ACCOUNT, password)
        assert (account.role, account.localities) == ("caseworker", ("North",))
