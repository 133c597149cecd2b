"""The ``postgres_url`` fixture provides a real, writable PostgreSQL database."""

from __future__ import annotations

import uuid

import sqlalchemy as sa


def test_postgres_url_round_trips_rows(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    # A unique name: the database may be shared (CMOOE_TEST_POSTGRES_URL) or reused
    # by other tests in the session.
    table = sa.Table(
        f"fixture_check_{uuid.uuid4().hex[:12]}",
        sa.MetaData(),
        sa.Column("pupil_id", sa.Integer, primary_key=True),
        sa.Column("school", sa.Text, nullable=False),
        sa.Column("attendance", sa.Float, nullable=False),
    )
    rows = [
        {"pupil_id": 1, "school": "Northgate", "attendance": 0.95},
        {"pupil_id": 2, "school": "Élan Academy", "attendance": 0.71},
    ]
    try:
        with engine.begin() as connection:
            version = connection.execute(sa.text("SELECT version()")).scalar_one()
            table.create(connection)
            connection.execute(table.insert(), rows)
            fetched = connection.execute(sa.select(table).order_by(table.c.pupil_id)).mappings()
            assert [dict(row) for row in fetched] == rows
        assert "PostgreSQL" in version
    finally:
        with engine.begin() as connection:
            table.drop(connection, checkfirst=True)
        engine.dispose()
