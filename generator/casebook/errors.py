"""Errors editors see, and the three ways `casebook check` prints them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class CaseError:
    """One problem in one case file. ``message`` is Chinese and ends with a 提示 (fix hint)."""

    file: str
    line: int
    column: int
    field: str  # dotted path such as observations[3].value; "" for the file as a whole
    message: str
    label: str = ""  # the field's Chinese title, e.g. 数值

    def text(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        if self.field:
            label = self.label or "字段"
            return f"{where}: {label} ({self.field}): {self.message}"
        return f"{where}: {self.message}"

    def github(self) -> str:
        # Workflow commands need %, CR and LF escaped, and , : in properties.
        def esc(s: str, prop: bool = False) -> str:
            s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            return s.replace(":", "%3A").replace(",", "%2C") if prop else s

        title = esc(f"{self.label or '字段'} ({self.field})" if self.field else "案例文件", prop=True)
        return (f"::error file={esc(self.file, True)},line={self.line},col={self.column},"
                f"title={title}::{esc(self.message)}")


class CasebookInvalid(Exception):
    """Raised by library entry points that need a valid casebook; carries every error."""

    def __init__(self, errors: list[CaseError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.text() for e in errors))


def format_text(errors: list[CaseError]) -> str:
    return "\n".join(e.text() for e in errors)


def format_github(errors: list[CaseError]) -> str:
    return "\n".join(e.github() for e in errors)


def format_json(errors: list[CaseError], counts: dict[str, int]) -> str:
    payload = {
        "ok": not errors,
        "counts": counts,
        "errors": [
            {k: v for k, v in asdict(e).items() if k in ("file", "line", "column", "field", "message")}
            for e in errors
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def format_gitlab(errors: list[CaseError]) -> str:
    """GitLab Code Quality report (Code Climate JSON): shown on the merge request's changed lines."""
    import hashlib

    issues = [{
        "description": f"{e.label or '字段'} ({e.field}): {e.message}" if e.field else e.message,
        "check_name": "casebook",
        "fingerprint": hashlib.sha256(f"{e.file}:{e.line}:{e.column}:{e.field}:{e.message}".encode()).hexdigest(),
        "severity": "major",
        "location": {"path": e.file, "lines": {"begin": e.line}},
    } for e in errors]
    return json.dumps(issues, ensure_ascii=False, indent=2)
