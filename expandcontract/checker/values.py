"""Values an application may write into a column of a PostgreSQL type, as Hypothesis
strategies of PostgreSQL's text for them: the type's boundaries and ordinary values,
NULL, the column left out and DEFAULT. Values the column holds already come first.
"""

from __future__ import annotations

import re

from expandcontract.checker.model import DEFAULT, NULL, OMIT

_INT_BOUNDS = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}


def strategy(type_sql: str, existing: list[str] = (), labels: list[str] = (), omit: bool = True):
    """A strategy for ``type_sql`` (as ``format_type`` spells it). ``labels``: an enum's;
    ``omit``: whether leaving the column out and DEFAULT may be drawn (not for a column
    whose default the model cannot evaluate)."""
    from hypothesis import strategies as st

    type_sql = type_sql.lower()
    if type_sql.endswith("[]"):
        element = _scalar(type_sql[:-2], labels)
        values = st.lists(st.one_of(element, st.just(None)), max_size=3).map(_array)
    else:
        values = _scalar(type_sql, labels)
    choices = [values]
    if existing:
        choices.insert(0, st.sampled_from(sorted(set(existing))))
    choices.append(st.sampled_from([NULL, OMIT, DEFAULT] if omit else [NULL]))
    return st.one_of(*choices)


def _scalar(type_sql: str, labels):
    from hypothesis import strategies as st

    base = type_sql.split("(")[0].strip()
    modifier = (
        [int(x) for x in re.findall(r"\d+", type_sql.split("(", 1)[1])] if "(" in type_sql else []
    )
    if base in _INT_BOUNDS:
        bound = _INT_BOUNDS[base]
        return st.one_of(
            st.sampled_from([0, -1, bound - 1, -bound]), st.integers(-bound, bound - 1)
        ).map(str)
    if base == "numeric":
        precision, scale = ([*modifier, 0, 0])[:2] if modifier else (12, 4)
        limit = 10 ** (precision - scale) - 1
        return st.decimals(-limit, limit, places=scale, allow_nan=False, allow_infinity=False).map(
            str
        )
    if base in ("real", "double precision"):
        return st.floats(-1e9, 1e9, allow_nan=False).map(repr)
    if base in ("text", "character varying", "character", "citext"):
        size = modifier[0] if modifier else 40
        alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
        return st.text(alphabet, max_size=size + 5)
    if base == "boolean":
        return st.sampled_from(["true", "false"])
    if base == "uuid":
        return st.uuids().map(str)
    if base == "date":
        return st.dates().map(str)
    if base.startswith("timestamp"):
        text = st.datetimes().map(lambda d: d.isoformat(sep=" "))
        return text.map(lambda v: v + "+00") if "with time zone" in base else text
    if base in ("json", "jsonb"):
        import json

        leaves = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=8))
        tree = st.recursive(
            leaves,
            lambda inner: st.one_of(
                st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=6,
        )
        return tree.map(json.dumps)
    if labels:
        return st.sampled_from([*list(labels), "not a label"])
    return st.just("0")  # a type this module does not know: the rows the table has


def _array(items) -> str:
    def one(item):
        if item is None:
            return "NULL"
        return '"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join(one(i) for i in items) + "}"
