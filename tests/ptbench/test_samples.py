"""PTBench samples: the benchmark layouts, profile parsing, ids and format errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ptbench.samples import DatasetFormatError, ablate, load_benchmark


def test_directory_layout_with_splits_and_unseen_file(golden_dir: Path) -> None:
    bench = load_benchmark(golden_dir / "ptbench")
    assert list(bench.splits) == ["test_trained_user", "test_untrained_user", "unseen_scenarios"]
    assert [len(v) for v in bench.splits.values()] == [3, 2, 1]
    assert bench.overall_splits() == ["test_trained_user", "test_untrained_user"]
    assert bench.issues == []


def test_dict_and_string_profiles_parse_to_the_same_dict(golden_dir: Path) -> None:
    bench = load_benchmark(golden_dir / "ptbench")
    trained = bench.splits["test_trained_user"][0]
    untrained = bench.splits["test_untrained_user"][1]
    assert trained.profile_text is None
    assert untrained.profile_text is not None and untrained.profile_text.startswith("{'basic")
    assert untrained.user_profile == trained.user_profile
    bob = bench.splits["test_untrained_user"][0].user_profile
    assert bob["basic_features"]["vip"] is True  # Python literal True, not JSON true


def test_ids_kept_as_strings_and_missing_ids_get_the_index(golden_dir: Path) -> None:
    bench = load_benchmark(golden_dir / "ptbench")
    assert [s.id for s in bench.splits["test_trained_user"]] == ["101", "102", "103"]
    assert [s.id for s in bench.splits["test_untrained_user"]] == ["u-1", "1"]


def test_single_file_and_folder_with_data_json(golden_dir: Path) -> None:
    by_file = load_benchmark(golden_dir / "ptbench/test_trained_user/data.json")
    by_dir = load_benchmark(golden_dir / "ptbench/test_trained_user")
    assert list(by_file.splits) == list(by_dir.splits) == ["test_trained_user"]
    assert by_file.overall_splits() == ["test_trained_user"]


def test_answer_is_typed(golden_dir: Path) -> None:
    s = load_benchmark(golden_dir / "ptbench").splits["test_untrained_user"][1]
    assert s.answer.platform == "FoodFast"
    call = s.answer.calls[0]
    assert call.name == "FoodFast_orderFood"
    assert call.params["toppings"] == [["cheese", "bacon"]]


def test_repeated_ids_are_made_unique(tmp_path: Path, golden_dir: Path) -> None:
    data = json.loads((golden_dir / "ptbench/test_trained_user/data.json").read_text())
    data[1]["id"] = data[0]["id"]
    (tmp_path / "data.json").write_text(json.dumps(data))
    ids = [s.id for s in load_benchmark(tmp_path / "data.json").samples()]
    assert ids == ["101@0", "101@1", "103"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("not_json.json", r"not_json\.json: not JSON \(line 1"),
        ("not_a_list.json", r"not_a_list\.json: expected a JSON list of samples, got dict"),
        ("missing_query.json", r"missing_query\.json: sample 1: field 'query': Field required"),
        ("bad_answer.json", r"bad_answer\.json: sample 0: field 'answer\[1\]'"),
        ("bad_profile.json", r"bad_profile\.json: sample 0: field 'user_profile'"),
    ],
)
def test_not_ptbench_format_names_file_sample_and_field(
    golden_dir: Path, name: str, expected: str
) -> None:
    with pytest.raises(DatasetFormatError, match=expected):
        load_benchmark(golden_dir / "bad" / name)


def test_unknown_answer_platform_is_an_error_by_default(golden_dir: Path) -> None:
    with pytest.raises(DatasetFormatError, match=r"sample 1 \(id 101\): answer platform "
                       r"'UberEats' is not among its platforms"):
        load_benchmark(golden_dir / "bad/unknown_platform.json")


def test_unknown_answer_platform_is_reported_when_lenient(golden_dir: Path) -> None:
    bench = load_benchmark(golden_dir / "bad/unknown_platform.json", strict=False)
    assert len(bench.samples()) == 2
    assert len(bench.issues) == 1 and "UberEats" in bench.issues[0]


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match="no such file or folder"):
        load_benchmark(tmp_path / "nope")
    with pytest.raises(DatasetFormatError, match="no PTBench files found"):
        load_benchmark(tmp_path)


@pytest.mark.parametrize(
    ("mode", "kept"),
    [("basic", {"user_history"}), ("history", {"basic_features"}), ("both", set()), (None, None)],
)
def test_ablation_removes_profile_parts(golden_dir: Path, mode: str | None,
                                        kept: set[str] | None) -> None:
    sample = load_benchmark(golden_dir / "ptbench").splits["test_untrained_user"][0]
    out = ablate(sample, mode)  # type: ignore[arg-type]
    if kept is None:
        assert out is sample
    else:
        assert set(out.user_profile) == kept
        assert out.profile_text is None  # the prompt must show the ablated profile
        assert set(sample.user_profile) == {"basic_features", "user_history"}  # untouched
