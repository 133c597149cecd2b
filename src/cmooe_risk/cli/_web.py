"""``cmooe-risk serve`` and ``cmooe-risk users``: the web queue and who may use it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cmooe_risk.cli._context import out, state
from cmooe_risk.errors import ConfigError

__all__ = ["register"]

users_app = typer.Typer(
    help="Accounts for the web queue (`serve`): add, disable, list, reset a password.",
    no_args_is_help=True,
)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input (one line) instead of asking for it.",
    ),
]


def _password(from_stdin: bool) -> str:
    """The new password, asked twice without echo, or one line of standard input."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError("--password-stdin read no password.")
        return line
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on. Keep 127.0.0.1 behind a reverse proxy."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Serve the caseworkers' web queue over the workspace's queue database.

    Caseworkers sign in with an account from `cmooe-risk users add` and see only their
    localities' children. See docs/web.md for HTTPS, single sign-on and the audit log.
    """
    from cmooe_risk.web import create_app
    from cmooe_risk.web import serve as run

    workspace = state(ctx).workspace
    app = create_app(workspace)  # a workspace with nothing published stops here, clearly
    out.print(f"Serving the web queue at http://{host}:{port}/ (Ctrl+C stops it).")
    run(workspace, host=host, port=port, app=app)


@users_app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Account name, e.g. an e-mail address.")],
    role: Annotated[str, typer.Option(help="caseworker, lead, analyst or viewer.")],
    locality: Annotated[
        list[str] | None,
        typer.Option(help="A locality the account works (repeat for a lead or viewer)."),
    ] = None,
    single_sign_on: Annotated[
        bool,
        typer.Option(
            "--single-sign-on",
            help="No password: the account signs in only through the reverse proxy's "
            "identity header (web.trusted_header).",
        ),
    ] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account; asks for its password (at least 12 characters)."""
    from cmooe_risk.queue import add_account, default_actor, open_published_store

    store = open_published_store(state(ctx).workspace)
    password = None if single_sign_on else _password(password_stdin)
    account = add_account(
        store,
        name,
        role=role,
        localities=tuple(locality or ()),
        password=password,
        by=default_actor(),
    )
    where = ", ".join(account.localities) or "every locality"
    out.print(f"Added {escape(account.username)}: {account.role}, {escape(where)}.")


@users_app.command()
def disable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Stop an account signing in; a session it has open ends at its next request."""
    from cmooe_risk.queue import default_actor, disable_account, open_published_store

    account = disable_account(open_published_store(state(ctx).workspace), name, by=default_actor())
    out.print(f"Disabled {escape(account.username)}.")


@users_app.command()
def reset(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Account name.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password (re-enables a disabled account, clears failed sign-ins)."""
    from cmooe_risk.queue import default_actor, open_published_store, reset_password

    store = open_published_store(state(ctx).workspace)
    account = reset_password(store, name, _password(password_stdin), by=default_actor())
    out.print(f"New password set for {escape(account.username)}.")


@users_app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every account: role, localities, whether it can sign in."""
    from cmooe_risk.queue import list_accounts, open_published_store

    accounts = list_accounts(open_published_store(state(ctx).workspace))
    if not accounts:
        out.print("No accounts yet: `cmooe-risk users add NAME --role caseworker --locality L`.")
        return
    table = Table("account", "role", "localities", "active")
    for account in accounts:
        table.add_row(
            escape(account.username),
            account.role,
            escape(", ".join(account.localities) or "every locality"),
            "no" if account.disabled else "yes",
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(users_app, name="users")
