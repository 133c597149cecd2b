"""Inclusion partnership meeting packs: one self-contained HTML page per locality.

Each pack holds a published week's headline numbers, the ranked and explained list of
each outcome with every pupil's attendance trend and suspensions, a school summary and
the live-list fairness summary (with small counts suppressed), and the model card. It
opens offline, with no scripts or external requests, and prints on A4. See
``docs/report.md``.
"""

from cmooe_risk.report._card import ChampionCard, champion_cards
from cmooe_risk.report._data import (
    LocalityPack,
    PublishedRun,
    WeekFiles,
    find_run,
    locality_pack,
    read_week_files,
    run_localities,
)
from cmooe_risk.report._disclosure import show_count, suppress_column
from cmooe_risk.report._html import render_pack
from cmooe_risk.report._pack import (
    MeetingPack,
    pack_file_name,
    pdf_available,
    write_meeting_packs,
)
from cmooe_risk.report._svg import (
    attendance_sparkline,
    attendance_summary,
    suspension_timeline,
)
from cmooe_risk.report._trends import PupilTrends, load_trends, school_names

__all__ = [
    "ChampionCard",
    "LocalityPack",
    "MeetingPack",
    "PublishedRun",
    "PupilTrends",
    "WeekFiles",
    "attendance_sparkline",
    "attendance_summary",
    "champion_cards",
    "find_run",
    "load_trends",
    "locality_pack",
    "pack_file_name",
    "pdf_available",
    "read_week_files",
    "render_pack",
    "run_localities",
    "school_names",
    "show_count",
    "suppress_column",
    "suspension_timeline",
    "write_meeting_packs",
]
