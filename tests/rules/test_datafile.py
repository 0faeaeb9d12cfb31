"""Data-file helpers (``geoplan.rules.datafile``): one-line errors naming the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from geoplan._errors import TargetSheetError
from geoplan.rules.datafile import (
    DATA_DIR,
    FileContext,
    check_keys,
    indicator_default,
    is_number,
    read_yaml,
    text_field,
)


def test_read_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "sheet.yaml"
    bad.write_text("id: x\ntargets:\n  - id: a\n   value: [1\n", encoding="utf-8")
    with pytest.raises(TargetSheetError, match=r"sheet\.yaml: line \d+ is not valid YAML"):
        read_yaml(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(TargetSheetError, match="expected a YAML mapping"):
        read_yaml(lst)


def test_indicator_defaults_are_those_written_in_indicators_yaml() -> None:
    raw = yaml.safe_load((DATA_DIR / "indicators.yaml").read_text(encoding="utf-8"))
    for iid, spec in raw.items():
        for name, p in (spec.get("parameters") or {}).items():
            if "default" in p:
                exp = p["default"]
                exp = tuple(exp) if isinstance(exp, list) else exp
                assert indicator_default(iid, name) == exp
    assert indicator_default("bus_stop_coverage", "radii_m") == (300, 500)


def test_field_checks_say_what_to_do() -> None:
    ctx = FileContext(Path("s.yaml"), "t1")
    with pytest.raises(
        TargetSheetError,
        match=r"s\.yaml: target 't1': unknown target key\(s\) valeu; use only: id, value",
    ):
        check_keys({"id": 1, "valeu": 2}, {"id", "value"}, "target", ctx)
    check_keys({"id": 1}, {"id", "value"}, "target", ctx)
    assert text_field({"label": "公园"}, "label", ctx) == "公园"
    assert text_field({}, "note", ctx, required=False) is None
    with pytest.raises(TargetSheetError, match="missing 'label'; add a non-empty 'label'"):
        text_field({}, "label", ctx)
    with pytest.raises(TargetSheetError, match="must be non-empty text"):
        text_field({"label": ["a"]}, "label", ctx)


def test_is_number() -> None:
    assert is_number(3) and is_number(0.5)
    assert not is_number(True) and not is_number("3") and not is_number(None)
    assert not is_number(float("nan"))  # a .nan target value is not a figure
