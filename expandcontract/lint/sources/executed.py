"""``lint --execute``: what cannot be rendered offline, run on a throwaway PostgreSQL.

A revision whose code stops part way when rendered offline (it needs rows, or
a catalog answer the history cannot give) is run for real instead: the history
up to it is upgraded, on a throwaway database (verify's backends: the embedded
PostgreSQL 18 by default, or a database of its own on a server given by URL),
every statement the revision really executes is recorded at the revision's line
that ran it, and those statements are linted as the rendered ones would have
been. The revisions before it run as they are (nothing of theirs is recorded);
the project's env.py is not run, as in ``verify``.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

from expandcontract.errors import InputError, first_line


@dataclass
class Run:
    """One revision's function to run: the file and which way (``up``/``down``)."""

    path: Path
    revision: str
    directions: set[str]


def _script(config, directory: Path, env_py: Path | None):
    """Alembic's ScriptDirectory for the project (its Config), or for a bare versions
    folder: the folder that has env.py (or the folder above) as the script location."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    if config is None:
        config = Config()
        home = env_py.parent if env_py is not None else directory.parent
        config.set_main_option("script_location", str(home).replace("%", "%%"))
        config.set_main_option("version_locations", str(directory).replace("%", "%%"))
        config.set_main_option("path_separator", "os")
    with contextlib.redirect_stdout(sys.stderr):
        script = ScriptDirectory.from_config(config)
        script.revision_map.get_revisions("heads")  # every revision imported now
    return config, script


def run(
    where: str,
    config,
    directory: Path,
    env_py: Path | None,
    order: list[str],
    runs: dict[str, Run],
):
    """Upgrade ``order`` (every revision up to the last of ``runs``) on a throwaway
    database, recording what each of ``runs`` executes. Returns (revision, direction) ->
    the statements it ran (with the error, when it failed there too), and why the
    history stopped before them, if it did. ``where``: ``embedded`` or a server URL."""
    from sqlalchemy import event
    from sqlalchemy.pool import NullPool

    from expandcontract.connections import engine as new_engine
    from expandcontract.lint.sources.rendering import Chunk, Recorder, Rendered, literal
    from expandcontract.phases.environment import (
        downgrade_one,
        run_steps,
        upgrade_one,
    )
    from expandcontract.verify.databases import choose

    try:
        config, script = _script(config, directory, env_py)
    except Exception as err:
        raise InputError(
            f"{directory}: --execute: cannot load the history: {type(err).__name__}: "
            f"{first_line(err)}"
        ) from None
    last = max(order.index(r) for r in runs)
    order = order[: last + 1]
    embedded = where == "embedded"
    backend, _ = choose(None if embedded else where, None, False, None, embedded, "ec_lint_")
    results: dict[tuple[str, str], Rendered] = {}
    current: dict = {"recorder": None, "rendered": None, "key": None, "revision": None}
    stopped = None  # why the history stopped before a revision to record, if it did

    def statement(conn, cursor, sql, parameters, context, executemany) -> None:
        recorder, rendered = current["recorder"], current["rendered"]
        if recorder is None:
            return
        position = recorder.find()
        if position is None:  # Alembic's own bookkeeping, not the revision's
            return
        if isinstance(parameters, dict) and parameters:
            for name, value in parameters.items():
                sql = sql.replace(f"%({name})s", literal(value))
            sql = sql.replace("%%", "%")
        rendered.chunks.append(Chunk(sql, *position))

    def traced(step, revision: str, direction: str):
        original = step.migration_fn

        def migration_fn(*args, **kwargs):
            current["key"] = (revision, direction)
            current["rendered"] = results[(revision, direction)] = Rendered()
            recorder = current["recorder"] = Recorder(runs[revision].path)
            # the name Alembic's loader compiled the module under
            recorder.filename = script.get_revision(revision).module.upgrade.__code__.co_filename
            result = original(*args, **kwargs)
            current["recorder"] = current["key"] = None
            return result

        step.migration_fn = migration_fn
        return step

    def steps(heads):
        for revision in order:
            current["revision"] = revision
            run_ = runs.get(revision)
            (step,) = upgrade_one(script, revision)
            if run_ is None:
                yield step
                continue
            yield traced(step, revision, "up") if "up" in run_.directions else step
            if "down" in run_.directions:
                (step,) = downgrade_one(script, revision)
                yield traced(step, revision, "down")
                (step,) = upgrade_one(script, revision)
                yield step

    with backend as database:
        engine = new_engine(database.sqlalchemy_url, poolclass=NullPool)
        event.listen(engine, "before_cursor_execute", statement)
        try:
            with engine.connect() as connection, contextlib.redirect_stdout(sys.stderr):
                try:
                    run_steps(config, script, connection, steps)
                except Exception as err:
                    connection.rollback()
                    orig = getattr(err, "orig", None) or err
                    why = f"{type(orig).__name__}: {first_line(orig)}"
                    if current["key"] is not None:  # one of those to record failed
                        rendered = results[current["key"]]
                        rendered.aborted = True
                        line = rendered.chunks[-1].line if rendered.chunks else 1
                        rendered.errors.append(
                            (line, f"fails on PostgreSQL too (--execute): {why}")
                        )
                    else:
                        stopped = f"revision {current['revision']} fails on PostgreSQL: {why}"
        finally:
            engine.dispose()
    return results, stopped
