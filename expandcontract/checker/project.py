"""``expandcontract verify --contract``: the checker on a user's own changes.

Every phase revision expandcontract writes declares the change it belongs to
(``expandcontract_changes``). For each replaced column (rename-column, change-type)
the checker makes a database holding everything before the change, with seeded
rows, and runs the state machine on that change alone: the user's table and
columns, their conversions, their defaults.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field

from expandcontract.project import Project

INTEGER_KEYS = ("smallint", "integer", "bigint")


@dataclass
class ContractResult:
    change: str  # what it is, in words
    revisions: dict[str, str] = field(default_factory=dict)
    ok: bool = True
    examples: int = 0
    message: str = ""  # the violation, shrunk
    skipped: str = ""  # why it was not checked

    def as_dict(self) -> dict:
        return {
            "change": self.change,
            "revisions": self.revisions,
            "ok": self.ok,
            "examples": self.examples,
            **({"violation": self.message} if self.message else {}),
            **({"skipped": self.skipped} if self.skipped else {}),
        }


def declared_changes(project: Project) -> list[tuple[dict, dict[str, str]]]:
    """Each change the revisions declare, with its revision on each phase."""
    script = project.load_revisions()
    history = project.history
    found: dict[str, tuple[dict, dict[str, str]]] = {}
    for revision in history.topological():
        module = script.get_revision(revision).module
        for change in getattr(module, "expandcontract_changes", None) or ():
            key = json.dumps(change, sort_keys=True)
            phase = history.phase_of(history.get(revision))
            found.setdefault(key, (change, {}))[1][phase] = revision
    return list(found.values())


def describe(change: dict) -> str:
    if change.get("new_type"):
        return f"change-type {change['table']}.{change['old']} to {change['new_type']}"
    return f"rename-column {change['table']}.{change['old']} to {change['new']}"


def check_project(
    project: Project, conninfo: str, examples: int = 10, steps: int = 25, rows: int = 30, say=None
) -> list[ContractResult]:
    """The contract of every declared change, on the server of ``conninfo`` (where it may
    create databases); ``say(message)`` reports progress."""
    results = []
    for change, revisions in declared_changes(project):
        result = ContractResult(describe(change), revisions)
        results.append(result)
        if change.get("kind") != "replace-column":
            result.skipped = f"no model of {change.get('kind')} changes yet"
            continue
        if say:
            say(f"contract of {result.change}: {examples} examples")
        _check_one(project, conninfo, change, revisions, result, examples, steps, rows)
    return results


def _check_one(project, conninfo, change, revisions, result, examples, steps, rows) -> None:
    import psycopg

    from expandcontract.checker.machine import Scenario, Violation, check
    from expandcontract.checker.scenarios import drop

    template = f"ec_check_tmpl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{template}"')
    try:
        target = psycopg.conninfo.make_conninfo(conninfo, dbname=template)
        first = next(
            revisions[p] for p in ("expand", "migrate", "switch", "contract") if p in revisions
        )
        _upgrade_before(project, target, first)
        setup = _setup(target, change, rows)
        if isinstance(setup, str):
            result.skipped = setup
            return
        model, values, inserts, first_id = setup
        scenario = Scenario(
            result.change.replace(" ", "_"),
            project,
            conninfo,
            template,
            model,
            values,
            first_id=first_id,
            inserts=inserts,
            revisions=revisions,
        )
        try:
            # reproducible on demand (the suite's own tests): the same runs every time
            fixed = os.environ.get("EXPANDCONTRACT_CONTRACT_DERANDOMIZE") == "1"
            check(scenario, examples=examples, steps=steps, derandomize=fixed)
            result.examples = examples
        except Violation as violation:
            result.ok, result.message = False, str(violation)
    finally:
        drop(conninfo, template)


def _upgrade_before(project: Project, conninfo: str, first: str) -> None:
    """Apply, without the project's env.py, every revision ``first`` needs."""
    from sqlalchemy.pool import NullPool

    from expandcontract.connections import engine
    from expandcontract.phases.environment import run_steps, upgrade_one
    from expandcontract.urls import sqlalchemy_url

    history = project.history
    needed = history.ancestors(first)
    order = [r for r in history.topological() if r in needed]
    script = project.load_revisions()
    eng = engine(sqlalchemy_url(conninfo), poolclass=NullPool)
    try:
        with eng.connect() as connection:
            run_steps(
                project.config,
                script,
                connection,
                lambda heads: [step for r in order for step in upgrade_one(script, r)],
                env=project.env,
            )
    finally:
        eng.dispose()


def _setup(conninfo: str, change: dict, rows: int):
    """Seed the table; the model, each version's values, whether rows can be inserted,
    and the first key to insert; or why the change cannot be checked."""
    import psycopg
    from sqlalchemy.pool import NullPool

    from expandcontract.catalog import probes
    from expandcontract.checker.model import Oracle
    from expandcontract.checker.replace import ReplaceColumn
    from expandcontract.checker.values import strategy
    from expandcontract.connections import engine
    from expandcontract.ops.column import _CONSTANT
    from expandcontract.schema.names import quote
    from expandcontract.urls import sqlalchemy_url
    from expandcontract.verify.seed import seed

    table, old, new = change["table"], change["old"], change["new"]
    qualified = table if "." in table else f"public.{table}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        seed(conn, [qualified], rows=rows)
    eng = engine(sqlalchemy_url(conninfo), poolclass=NullPool)
    try:
        with eng.connect() as bind:
            keys = probes.walk_keys(bind, table)
            if not keys or len(keys) != 1:
                return f"{table} has no single-column key to name rows by"
            key, key_type = keys[0]
            old_type = probes.column_type(bind, table, old)
            if old_type is None:
                return f"column {table}.{old} is not there before the change"
            state = probes.column_state(bind, table, old)
            default = state[1] if state else None
            constant = default is None or bool(_CONSTANT.match(default))
            copied = tuple(
                name
                for name, _, by_db in probes.columns(bind, table)
                if name not in (key, old) and not by_db
            )
            existing = [
                v
                for (v,) in bind.exec_driver_sql(
                    f"SELECT DISTINCT {quote(old)}::text FROM {quote(table)} "
                    f"WHERE {quote(old)} IS NOT NULL LIMIT 20"
                )
            ]
            labels = probes.enum_labels(bind, table, old)
            top = bind.exec_driver_sql(f"SELECT max({quote(key)}) FROM {quote(table)}").scalar()
            inserts = key_type in INTEGER_KEYS and _copy_works(bind, table, key, top, copied)
    finally:
        eng.dispose()
    new_type = change.get("new_type") or old_type

    def model(oracle: Oracle) -> ReplaceColumn:
        return ReplaceColumn(
            oracle=oracle,
            table=table,
            old=old,
            new=new,
            old_type=old_type,
            new_type=new_type,
            forward=change.get("forward") or quote(old),
            backward=change.get("backward"),
            in_place=bool(change.get("swap")),
            default=default if constant else None,
            lossy=bool(change.get("lossy")),
            key=key,
            copied=copied,
        )

    values = {
        "old": strategy(old_type, existing, labels, omit=constant),
        "new": strategy(new_type, existing if new_type == old_type else (), labels, omit=constant),
    }
    return model, values, inserts, int(top or 0) + 1_000_000


def _copy_works(bind, table: str, key: str, top, copied: tuple[str, ...]) -> bool:
    """Whether a row can be inserted by copying an existing one under a new key (a UNIQUE
    column, say, refuses it); tried and rolled back."""
    from expandcontract.schema.names import quote

    if top is None:
        return False
    t, k = quote(table), quote(key)
    others = ", ".join(quote(c) for c in copied)
    select = f"SELECT {int(top) + 1}{', ' + others if others else ''} FROM {t} WHERE {k} = {top}"
    try:
        with bind.begin():
            bind.exec_driver_sql(f"INSERT INTO {t} ({k}{', ' + others if others else ''}) {select}")
            raise _RolledBack
    except _RolledBack:
        return True
    except Exception:
        return False


class _RolledBack(Exception):
    pass
