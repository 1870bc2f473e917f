"""Training records: what synth writes reads back typed, bad lines name file and line, the gold
answer renders in the paper's form."""

from __future__ import annotations

from pathlib import Path

import pytest

from ptbench.answers import Call, parse_text
from ptbench.records import Gold, RecordFormatError, TrainingRecord, read_records


def _record(**fields: object) -> TrainingRecord:
    base: dict[str, object] = {
        "id": "r1", "user_id": "u1", "scenario": "shopping",
        "profile": {"basic_features": {"name": "Ann"}, "user_history": {}},
        "platforms": [{"name": "MegaMart", "profile": {}}], "tools": ["MegaMart_placeOrder"],
        "query": "order two batteries",
        "gold": {"platform": "MegaMart", "calls": [
            {"name": "MegaMart_placeOrder", "arguments": {"quantity": 2, "item": "AA"}}]}}
    return TrainingRecord.model_validate({**base, **fields})


def test_records_round_trip_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    records = [_record(), _record(id="r2", annotations={"explicit_platform": True})]
    path.write_text("\n".join(r.model_dump_json() for r in records) + "\n\n", encoding="utf-8")
    assert list(read_records(path)) == records
    assert records[0].annotations.explicit_platform is False


def test_a_bad_line_names_the_file_and_line_and_what_to_run(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(_record().model_dump_json() + "\n" + '{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(RecordFormatError, match=r"records.jsonl:2: .*ptool synth train"):
        list(read_records(path))


def test_the_gold_answer_is_the_paper_text_form_and_parses_back() -> None:
    gold = _record().gold
    assert gold.text() == "MegaMart:[MegaMart_placeOrder(quantity=2, item='AA')]"
    reordered = [Call(name="MegaMart_placeOrder", arguments={"item": "AA", "quantity": 2})]
    assert gold.text(reordered) == "MegaMart:[MegaMart_placeOrder(item='AA', quantity=2)]"
    assert parse_text(gold.text()).calls == gold.calls
    assert Gold(platform="P").text() == "P:[]"


def test_tool_names_must_be_resolved_before_specs_are_read() -> None:
    with pytest.raises(ValueError, match="resolve them"):
        _record().tool_specs()
    spec = {"type": "function", "function": {"name": "MegaMart_placeOrder"}}
    assert _record(tools=[spec]).tool_specs() == [spec]
