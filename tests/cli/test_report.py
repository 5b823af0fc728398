"""JSON reports: the payload, what an interruption marks, and files replaced atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bitget_cancel import CancelOutcome, CancelReport, CancelStatus, CancelTarget
from bitget_cancel.cli.report import (
    ReportPathError,
    abandoned_payload,
    check_report_path,
    encode,
    report_payload,
    write_atomically,
)


def _outcome(i: int, status: CancelStatus, attempts: int) -> CancelOutcome:
    target = CancelTarget(symbol="BTCUSDT", order_id=str(1000 + i))
    return CancelOutcome(target, status, None, None, attempts)


REPORT = CancelReport(
    [
        _outcome(0, CancelStatus.CANCELLED, 1),
        _outcome(1, CancelStatus.UNRESOLVED, 1),  # sent: the cancel may have happened
        _outcome(2, CancelStatus.UNRESOLVED, 0),  # never sent
        _outcome(3, CancelStatus.UNRESOLVED, 0),
        _outcome(4, CancelStatus.NOT_OPEN, 2),
    ],
    requests=3,
    elapsed=1.25,
)


def test_an_uninterrupted_payload_is_the_reports_own_dict() -> None:
    assert report_payload(REPORT) == REPORT.to_dict()


def test_an_interrupted_payload_marks_only_what_was_never_sent() -> None:
    payload = report_payload(REPORT, interrupted=True)

    assert payload["interrupted"] is True
    assert payload["allClosed"] is False
    assert [o["status"] for o in payload["outcomes"]] == [
        "cancelled", "unresolved", "not_sent", "not_sent", "not_open"
    ]  # fmt: skip
    assert payload["counts"] == {
        "cancelled": 1, "not_open": 1, "failed": 0, "unresolved": 1, "not_sent": 2
    }  # fmt: skip
    assert REPORT.to_dict()["counts"]["unresolved"] == 3  # the report itself is untouched


def test_an_abandoned_payload_claims_no_outcome_and_names_every_target_once() -> None:
    targets = [o.target for o in REPORT.outcomes]
    payload = abandoned_payload([*targets, targets[0]], 2)
    assert [o["orderId"] for o in payload["outcomes"]] == [t.order_id for t in targets]
    assert {o["status"] for o in payload["outcomes"]} == {"unresolved"}
    assert payload["counts"]["unresolved"] == 5
    assert sum(payload["counts"].values()) == 5
    assert (payload["allClosed"], payload["complete"], payload["interrupted"]) == (
        False, False, True
    )  # fmt: skip
    assert (payload["targets"], payload["answered"]) == (6, 2)


def test_encode_is_indented_json_that_reads_back_the_same() -> None:
    payload = report_payload(REPORT)
    data = encode(payload)
    assert json.loads(data) == payload
    assert data.endswith(b"}\n")
    assert b'\n  "counts": {' in data


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    write_atomically(path, b'{"new": true}\n')
    assert path.read_bytes() == b'{"new": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")

    def broken_replace(source: object, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, b"new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_report_path_is_checked_before_anything_is_sent(tmp_path: Path) -> None:
    check_report_path(tmp_path / "fine.json")
    with pytest.raises(ReportPathError, match="is a directory"):
        check_report_path(tmp_path)
    with pytest.raises(ReportPathError, match="no such directory"):
        check_report_path(tmp_path / "missing" / "r.json")
