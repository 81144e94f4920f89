"""Every kind is a value with golden files, and its help page is its module's docstring."""

from pathlib import Path

from expandcontract.kinds import Kind, kinds


def test_every_kind_has_its_golden_test() -> None:
    here = Path(__file__).parent
    for name, kind in kinds().items():
        assert isinstance(kind, Kind)
        assert (here / f"test_{name.replace('-', '_')}.py").exists(), name
        assert kind.doc.startswith(name), f"{name}: its doc should open with its usage line"
        assert (kind.autogenerate is None) == (not kind.operations), name
