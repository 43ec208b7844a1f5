"""Security feature catalogue and the random pick (ETSI TS 119 461: ≥ 3, ≥ 2 optically variable)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from console.checks import features
from console.resources import resource_path


@pytest.mark.parametrize("doc_type", features.DOC_TYPES)
def test_pick_features_rules(doc_type: str) -> None:
    for _ in range(50):
        picked = features.pick_features(doc_type)
        assert len(picked) == 3 and len({f.id for f in picked}) == 3
        assert sum(f.optically_variable for f in picked) >= 2
        for f in picked:
            assert f.name_it and f.name_en and f.location
            assert features.instruction_text(f.instruction, "it") != f.instruction
            assert features.instruction_text(f.instruction, "en") != f.instruction


def test_picks_vary_and_cover_the_catalogue() -> None:
    seen: set[str] = set()
    combos: set[tuple[str, ...]] = set()
    for _ in range(200):
        picked = features.pick_features("identity_card")
        seen.update(f.id for f in picked)
        combos.add(tuple(sorted(f.id for f in picked)))
    assert seen == {f.id for f in features.features_for("identity_card")}
    assert len(combos) > 5


def test_seeded_generator_is_reproducible_and_aliases_work() -> None:
    a = features.pick_features("cie", random.Random(1), count=4)
    b = features.pick_features("identity_card", random.Random(1), count=4)
    assert [f.id for f in a] == [f.id for f in b] and len(a) == 4


def test_unknown_type_and_impossible_requests() -> None:
    with pytest.raises(features.CatalogueError):
        features.pick_features("library_card")
    with pytest.raises(features.CatalogueError):
        features.pick_features("passport", min_optically_variable=5)


def test_catalogue_file_is_complete() -> None:
    data = json.loads(resource_path("security_features.json").read_text(encoding="utf-8"))
    assert set(data["documents"]) == set(features.DOC_TYPES)
    for items in data["documents"].values():
        assert len({i["id"] for i in items}) == len(items)


def test_malformed_catalogue_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"documents": {"passport": [{"id": 1}]}}', encoding="utf-8")
    with pytest.raises(features.CatalogueError):
        features.load_catalogue(bad)
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(features.CatalogueError):
        features.load_catalogue(bad)
