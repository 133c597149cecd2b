"""Write the meeting packs: one self-contained HTML file per locality, optionally PDF."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cmooe_risk._atomic import atomic_target
from cmooe_risk.config import Workspace
from cmooe_risk.errors import ConfigError

__all__ = ["MeetingPack", "pack_file_name", "pdf_available", "write_meeting_packs"]

logger = logging.getLogger(__name__)

#: Who the audit log names when no actor is given.
REPORT_ACTOR = "cmooe-risk report"


@dataclass(frozen=True)
class MeetingPack:
    """One written pack.

    Attributes
    ----------
    locality : str
    as_of : date
    path : Path
        The HTML file.
    pdf : Path or None
        The PDF, when asked for.
    listed : dict
        Outcome -> pupils listed in the pack.
    """

    locality: str
    as_of: date
    path: Path
    pdf: Path | None
    listed: dict[str, int]


def pack_file_name(locality: str, as_of: date) -> str:
    """``meeting-pack-<locality>-<as-of>.html``, safe on every file system."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in locality).strip("-")
    return f"meeting-pack-{safe or 'locality'}-{as_of.isoformat()}.html"


def pdf_available() -> bool:
    """Whether WeasyPrint (the optional ``pdf`` extra) can be imported."""
    try:
        import weasyprint  # noqa: F401
    except Exception:  # ImportError, or OSError when its system libraries are missing
        return False
    return True


def write_meeting_packs(
    workspace: Workspace,
    out: Path,
    *,
    as_of: date | None = None,
    locality: str | None = None,
    pdf: bool = False,
    actor: str | None = None,
) -> list[MeetingPack]:
    """Write one meeting pack per locality of a published week.

    Parameters
    ----------
    workspace : Workspace
    out : Path
        Directory for the packs; created if needed.
    as_of : date, optional
        The week (its as-of Monday); default the latest published week.
    locality : str, optional
        Only this locality's pack.
    pdf : bool, default False
        Also write a PDF beside each HTML file with WeasyPrint.
    actor : str, optional
        Who made the packs, for the queue's audit log; default the login name.

    Returns
    -------
    list of MeetingPack

    Raises
    ------
    StateError
        Nothing published, or nothing for ``as_of``.
    ConfigError
        A locality without a list that week, or ``pdf`` without WeasyPrint installed.
    """
    from cmooe_risk.queue import default_actor, open_store
    from cmooe_risk.report._card import champion_cards
    from cmooe_risk.report._data import (
        OUTCOMES,
        find_run,
        locality_pack,
        read_week_files,
        run_localities,
    )
    from cmooe_risk.report._html import render_pack
    from cmooe_risk.report._trends import load_trends, school_names
    from cmooe_risk.warehouse import connect_workspace

    if pdf and not pdf_available():
        raise ConfigError(
            "--pdf needs WeasyPrint, which is not installed. Install it with "
            "`pip install 'cmooe-risk[pdf]'`, or open the HTML pack in a browser and print "
            "it to PDF (it is laid out for A4)."
        )
    store = open_store(workspace)
    run = find_run(store, as_of)
    localities = run_localities(store, run, locality)
    files = read_week_files(workspace, run)
    packs = [locality_pack(workspace, store, run, name, files) for name in localities]
    pupils = {p for pack in packs for p in pack.items["pupil_pseudonym"]}
    with connect_workspace(workspace, read_only=True) as con:
        trends = load_trends(con, pupils, run.as_of)
        schools = school_names(con)
    cards = champion_cards(workspace, run.models)
    threshold = workspace.config.fairness.min_group_size
    bands = (*workspace.config.queue.band_multiples, "typical")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    who = actor or default_actor()
    for pack in packs:
        page = render_pack(pack, trends, cards, threshold=threshold, schools=schools, bands=bands)
        path = out / pack_file_name(pack.locality, run.as_of)
        _write_text(path, page)
        pdf_path = _write_pdf(page, path.with_suffix(".pdf")) if pdf else None
        listed = {o: len(pack.outcome_items(o)) for o in OUTCOMES if o in run.models}
        with store.transaction() as connection:
            store.log(
                connection,
                "export",
                who,
                {
                    "file": path.name,
                    "format": "html" + ("+pdf" if pdf_path else ""),
                    "as_of": run.as_of.isoformat(),
                    "run_id": run.run_id,
                    "rows": listed,
                    "report": "meeting pack",
                },
                locality=pack.locality,
            )
        written.append(MeetingPack(pack.locality, run.as_of, path, pdf_path, listed))
    return written


def _write_text(path: Path, text: str) -> None:
    with atomic_target(path) as partial:
        partial.write_text(text, encoding="utf-8")


def _write_pdf(page: str, path: Path) -> Path:
    import weasyprint

    with atomic_target(path) as partial:
        # No base URL: the page has no relative resources, so nothing is fetched.
        weasyprint.HTML(string=page).write_pdf(str(partial))
    return path
