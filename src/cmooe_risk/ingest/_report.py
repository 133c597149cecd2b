"""The ingest report: what came in, what was accepted, what was quarantined and why."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["FileReport", "IngestReport"]


@dataclass
class FileReport:
    source: str
    file: str
    file_format: str
    sha256: str
    rows_in: int
    accepted: int
    quarantined: int
    rule_counts: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.accepted + self.quarantined


@dataclass
class IngestReport:
    run_id: str
    source_dir: str
    extract_date: str
    started_at: str
    finished_at: str
    warehouse: str
    files: list[FileReport]
    output_dir: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    def to_dict(self) -> dict:
        payload = asdict(self)
        payload["totals"] = {
            "rows_in": self.rows_in,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
        }
        return payload

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
