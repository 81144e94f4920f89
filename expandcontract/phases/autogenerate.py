"""Phased, lock-safe revisions from ``alembic revision --autogenerate``.

One line in ``env.py`` turns it on::

    from expandcontract import phased

    context.configure(connection=connection, target_metadata=target_metadata, **phased())

What autogenerate detects is rewritten into the phases of one change, written
as up to four revisions on the expand / migrate / switch / contract branches
(what is already safe stays a single expand revision):

- a new NOT NULL column: expand (nullable, default for new rows), migrate
  (backfill from ``server_default`` or ``info={"expandcontract": {"backfill": SQL}}``),
  switch (the NOT NULL recipe);
- a dropped column or table: contract only, with a downgrade that restores it;
- a type change: the change-type phases, the new column taking the old name
  in the contract;
- ``nullable=True -> False``: the NOT NULL recipe;
- a new index: CREATE INDEX CONCURRENTLY; a new unique constraint: a unique
  index concurrently, then ``USING INDEX``; a new foreign key: ``NOT VALID``,
  validated in switch;
- a column with ``info={"expandcontract": {"renamed_from": "old"}}``: the
  rename phases instead of a drop and an add (which would lose the data).

Each of these is the change kind's own mapping (``Kind.autogenerate`` in
``expandcontract/kinds/``; renames are rename-column's); this module orders the
phases and writes them. An operation no kind makes safe is written into the expand
revision as it is, under a comment saying why, where ``expandcontract lint``
reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from expandcontract.kinds import LOCK_TIMEOUT, PHASES, Phase, r

BOOKKEEPING_PREFIX = "expandcontract_"


def phased(process_revision_directives=None, include_object=None) -> dict:
    """Options for ``context.configure(**phased())``; wraps the project's own hooks."""

    def directives_hook(context, revision, directives):
        from alembic.util import CommandError

        from expandcontract.errors import InputError

        if process_revision_directives is not None:
            process_revision_directives(context, revision, directives)
        try:
            rewrite(context, revision, directives)
        except InputError as err:  # Alembic prints a CommandError on one line, as FAILED
            raise CommandError(f"expandcontract: {err}") from None

    def include(obj, name, type_, reflected, compare_to):
        if type_ == "table" and name and name.startswith(BOOKKEEPING_PREFIX):
            return False  # our bookkeeping and archived tables are not the application's
        if include_object is not None:
            return include_object(obj, name, type_, reflected, compare_to)
        return True

    return {"process_revision_directives": directives_hook, "include_object": include}


@dataclass
class Plan:
    phases: dict[str, Phase] = field(default_factory=dict)

    def add(self, kind_phases: dict[str, Phase]) -> None:
        for name, phase in kind_phases.items():
            target = self.phases.setdefault(name, Phase())
            if phase.irreversible:
                target.irreversible = "; ".join(
                    filter(None, [target.irreversible, phase.irreversible])
                )
            target.kept += phase.kept
            target.changes += tuple(c for c in phase.changes if c not in target.changes)
            target.upgrade += [
                line
                for line in phase.upgrade
                if line != LOCK_TIMEOUT or LOCK_TIMEOUT not in target.upgrade
            ]
            # downgrades undo in reverse order: the latest change first
            target.downgrade[:0] = [line for line in phase.downgrade if line != LOCK_TIMEOUT]

    def expand(self, upgrade: list[str], downgrade: list[str]) -> None:
        self.add({"expand": Phase([LOCK_TIMEOUT, *upgrade], downgrade)})

    def finish(self) -> dict[str, Phase]:
        for phase in self.phases.values():
            # each CONCURRENTLY step commits what ran before it: removals go first and
            # builds last, so a failure never strands half a revision's transaction
            phase.upgrade = _concurrent_at_the_edges(phase.upgrade)
            phase.downgrade = _concurrent_at_the_edges(phase.downgrade)
            if any(
                line.startswith("op.")
                and "concurrently" not in line
                and "backfill" not in line
                and "validate_constraint" not in line
                for line in phase.downgrade
            ):
                phase.downgrade.insert(0, LOCK_TIMEOUT)
            if LOCK_TIMEOUT in phase.upgrade:
                phase.upgrade.remove(LOCK_TIMEOUT)
                phase.upgrade.insert(0, LOCK_TIMEOUT)
        return {p: self.phases[p] for p in PHASES if p in self.phases}


def _concurrent_at_the_edges(lines: list[str]) -> list[str]:
    first = [line for line in lines if line.startswith("op.drop_index_concurrently(")]
    last = [line for line in lines if line.startswith("op.create_index_concurrently(")]
    # a UNIQUE attached to its index goes once the index is built
    last += [line for line in lines if line.startswith("op.add_unique_using_index(")]
    rest = [line for line in lines if line not in first and line not in last]
    head = [line for line in rest if line == LOCK_TIMEOUT]
    return head + first + [line for line in rest if line != LOCK_TIMEOUT] + last


def rewrite(context, revision, directives) -> None:
    cmd_opts = getattr(context.config, "cmd_opts", None)
    if not directives or not getattr(cmd_opts, "autogenerate", False):
        return
    script = directives[0]
    if script.upgrade_ops.is_empty():
        return
    from alembic.autogenerate.api import AutogenContext

    from expandcontract.phases.writer import write_change
    from expandcontract.project import Project

    autogen = AutogenContext(  # for rendering only: nothing is compared here
        context,
        metadata=context.opts.get("target_metadata"),
        opts={
            "sqlalchemy_module_prefix": "sa.",
            "alembic_module_prefix": "op.",
            "user_module_prefix": None,
        },
        autogenerate=False,
    )
    plan = Plan()
    gen = Autogen(autogen)
    from expandcontract.kinds.rename_column import carried_by_renames

    carried = carried_by_renames(script.upgrade_ops.ops)
    for op in script.upgrade_ops.ops:
        if id(op) not in carried:
            _operation(op, plan, gen, carried)
    from alembic.script import write_hooks

    project = Project.from_config(context.config)
    phases = plan.finish()
    written = write_change(
        project,
        "autogenerate",
        script.message or "autogenerated change",
        phases,
        after=compared_after(
            project,
            context.get_current_heads(),
            next(iter(phases)),
            tables_of(script.upgrade_ops.ops),
        ),
    )
    for path in written:
        print(f"  expandcontract: wrote {path}")
    # Alembic runs post-write hooks only on the revision it writes itself: run them here
    hooks = context.config.get_hooks_list()
    for path in written:
        write_hooks._run_hooks(str(path), hooks)
    directives[:] = []  # the phases replace Alembic's single revision


def compared_after(project, heads, first: str, tables: set[str]) -> tuple[str, ...]:
    """The revisions the change must run after, beyond its own branch: on each phase
    after ``first``, the latest one the compared database had applied (``heads``: its
    version table) that names one of ``tables``. The change was made against their
    result; a fresh database gets every expand before any contract (``verify``, a new
    environment), where a change to a column an earlier change added, swapped or renamed
    would run before that change had finished. A change to other tables stays free to
    go through the phases together with it."""
    from expandcontract.phases import PHASES

    history = project.history
    applied = set(heads)
    for head in heads:
        applied |= history.ancestors(head)
    latest = []
    for phase in PHASES[PHASES.index(first) + 1 :]:
        done = [r for r in history.revisions_of(phase) if r in applied]
        named = [r for r in done if _names_any(history.revisions[r].path, tables)]
        if named:
            latest.append(named[-1])
    return tuple(r for r in latest if not any(r in history.ancestors(o) for o in latest))


def _names_any(path, tables: set[str]) -> bool:
    """Whether a revision's text names one of ``tables`` (a string in it holds the name as
    a word: ``'users'``, ``'billing.users'``, ``'ALTER TABLE "Users" ...'``). Reading more
    than there is only orders a change after one it does not need."""
    import ast
    import re

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return True  # cannot tell: after it
    words = [re.compile(rf'(?<![\w$"]){re.escape(t)}(?![\w$"])|"{re.escape(t)}"') for t in tables]
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(w.search(node.value) for w in words)
        for node in ast.walk(tree)
    )


def tables_of(ops) -> set[str]:
    """The names of the tables Alembic's operations touch or reference."""
    from alembic.operations import ops as alembic_ops

    found: set[str] = set()
    for op in ops:
        if isinstance(op, alembic_ops.ModifyTableOps):
            found.add(op.table_name)
            found |= tables_of(op.ops)
            continue
        for attribute in ("table_name", "source_table", "referent_table"):
            name = getattr(op, attribute, None)
            if isinstance(name, str):
                found.add(name)
        for column in [getattr(op, "column", None), *getattr(op, "columns", ())]:
            for key in getattr(column, "foreign_keys", ()):
                found.add(key.target_fullname.split(".")[-2])
    return found


def qualified(name: str, schema: str | None) -> str:
    """``schema.name`` as the kinds and our operations take it (they quote each part)."""
    return f"{schema}.{name}" if schema else name


class Autogen:
    """What a kind's ``autogenerate(op, gen)`` needs to map one of Alembic's operations:
    Alembic's own rendering of it, names and SQL as the kinds take them."""

    def __init__(self, context) -> None:
        self.context = context

    def render(self, op) -> list[str]:
        """``op`` as Alembic writes it, rerunnable where Alembic can make it so (IF NOT
        EXISTS, IF EXISTS): a phase whose CONCURRENTLY step failed has committed what ran
        before that step, and running the phase again must get past it."""
        from alembic.autogenerate.render import render_op_text

        for option in ("if_exists", "if_not_exists"):
            if hasattr(op, option) and getattr(op, option) is None:
                setattr(op, option, True)
        return render_op_text(self.context, op).splitlines()

    def plain(self, op) -> dict[str, Phase]:
        """``op`` as Alembic writes it, in expand: a change that takes no long lock."""
        return {"expand": Phase([LOCK_TIMEOUT, *self.render(op)], self.render(op.reverse()))}

    def unsafe(self, op, why: str) -> dict[str, Phase]:
        """``op`` as Alembic writes it, in expand, under a comment saying why it is not
        lock-safe: the developer's to rewrite."""
        comment = [
            "# expandcontract: cannot make this change lock-safe automatically:",
            f"# {why}.",
            "# Review it by hand; `expandcontract lint` reports what it would lock.",
        ]
        try:
            reverse = self.render(op.reverse())
        except Exception:  # not every operation can be reversed
            reverse = ["pass  # expandcontract: write the reverse of the operation above by hand"]
        return {"expand": Phase([LOCK_TIMEOUT, *comment, *self.render(op)], reverse)}

    @staticmethod
    def qualified(name: str, schema: str | None) -> str:
        return qualified(name, schema)

    def foreign_key_match(self, table: str, schema: str | None, name: str) -> str | None:
        """``FULL`` for a foreign key of the compared database declared MATCH FULL."""
        from expandcontract.catalog import probes

        connection = self.context.connection
        if connection is None or not name:
            return None
        return "FULL" if probes.fk_match_type(connection, schema, table, name) == "f" else None

    @staticmethod
    def type_sql(type_) -> str:
        from sqlalchemy.dialects import postgresql

        return type_.compile(dialect=postgresql.dialect())

    @staticmethod
    def default_sql(column) -> str | None:
        default = column.server_default
        if default is None:
            return None
        arg = getattr(default, "arg", None)
        if isinstance(arg, str):
            return "'" + arg.replace("'", "''") + "'"
        return str(getattr(arg, "text", arg))

    @staticmethod
    def sql(expression) -> str:
        """A model's SQL expression as PostgreSQL text: SQL given as text as it is, anything
        else compiled by SQLAlchemy's PostgreSQL dialect (names quoted, no table prefix)."""
        from sqlalchemy.dialects import postgresql
        from sqlalchemy.sql.elements import TextClause

        if isinstance(expression, str):
            return expression
        if isinstance(expression, TextClause):
            return expression.text
        compiled = expression.compile(
            dialect=postgresql.dialect(),
            compile_kwargs={"literal_binds": True, "include_table": False},
        )
        return str(compiled)

    @staticmethod
    def columns(op) -> list[str]:
        """Python source for each indexed column: its name, or ``sa.text(...)`` of an
        expression (which our operations take as SQL; a plain string is always a name)."""
        from sqlalchemy.sql.elements import ColumnClause

        rendered = []
        for column in op.columns:
            if isinstance(column, str):
                rendered.append(r(column))
            elif isinstance(column, ColumnClause) and not column.is_literal:
                rendered.append(r(column.name))
            else:  # a function (which has a name too), a text or a literal column
                rendered.append(f"sa.text({r(Autogen.sql(column))})")
        return rendered

    @staticmethod
    def index_options(kw: dict) -> tuple[list[str], list[str]]:
        """An index's PostgreSQL options (Alembic's ``op.kw``) as keyword arguments of
        ``op.create_index_concurrently``, and the names of those it does not take.
        ``postgresql_concurrently`` goes (every build of ours is), as do other dialects'."""
        from expandcontract.ops.index import OPTIONS

        rendered, unknown = [], []
        for key, value in kw.items():
            if not key.startswith("postgresql_") or key == "postgresql_concurrently":
                continue
            if key not in OPTIONS:
                unknown.append(key)
            elif key == "postgresql_where":
                if value is None:
                    continue
                rendered.append(f"{key}=sa.text({r(Autogen.sql(value))})")
            elif not value:  # reflection's empty INCLUDE, a false NULLS NOT DISTINCT
                continue
            elif key == "postgresql_include":
                names = [c if isinstance(c, str) else c.name for c in value]
                rendered.append(f"{key}={names!r}")
            else:
                rendered.append(f"{key}={value!r}")
        return rendered, unknown


NO_SAFE_FORM = "expandcontract has no lock-safe form of this operation"


def _operation(op, plan: Plan, gen: Autogen, carried: set[int] = frozenset()) -> None:
    from alembic.operations import ops

    if isinstance(op, ops.ModifyTableOps):
        _table_ops(op, plan, gen, carried)
    elif isinstance(op, ops.CreateTableOp):
        plan.add(gen.plain(op))
    elif isinstance(op, ops.DropIndexOp):
        _drop_index(op, plan, gen)
    elif not _by_kinds(op, plan, gen):
        plan.add(gen.unsafe(op, NO_SAFE_FORM))


def _by_kinds(op, plan: Plan, gen: Autogen) -> bool:
    """Let the kinds that map ``op`` add their phases; False when no kind maps it."""
    from expandcontract.kinds import by_operation

    mapping = by_operation().get(type(op).__name__)
    for kind in mapping or ():
        found = kind.autogenerate(op, gen)
        if found:
            plan.add(found)
    return bool(mapping)


def _table_ops(group, plan: Plan, gen: Autogen, carried: set[int]) -> None:
    from alembic.operations import ops

    from expandcontract.kinds import rename_column

    table = qualified(group.table_name, group.schema)
    renamed = set()
    for old, name in (
        rename_column.renames([group]).get((group.schema, group.table_name), {}).items()
    ):
        plan.add(rename_column.phases(table, old, name))
        renamed |= {name, old}
    for op in group.ops:
        if id(op) in carried:
            continue
        if isinstance(op, ops.AddColumnOp) and op.column.name in renamed:
            continue
        if isinstance(op, ops.DropColumnOp) and op.column_name in renamed:
            continue
        if isinstance(op, ops.DropIndexOp):
            _drop_index(op, plan, gen)
        elif isinstance(op, ops.DropConstraintOp):
            _drop_constraint(op, plan, gen)
        elif _by_kinds(op, plan, gen):
            if isinstance(op, ops.AlterColumnOp):
                _alter_column_rest(op, plan, gen)
        else:
            plan.add(gen.unsafe(op, NO_SAFE_FORM))


def _alter_column_rest(op, plan: Plan, gen: Autogen) -> None:
    """What of a column alteration no kind maps: dropping NOT NULL, a server default or
    a comment (catalog-only changes, written as Alembic writes them)."""
    from alembic.operations import ops

    table, column = qualified(op.table_name, op.schema), op.column_name
    if op.modify_nullable is True:
        plan.add(
            {
                "expand": Phase(
                    [LOCK_TIMEOUT, f"op.drop_not_null({r(table)}, {r(column)})"],
                    [f"op.set_not_null({r(table)}, {r(column)})"],
                )
            }
        )
    if op.modify_server_default is not False or op.modify_comment is not False:
        rest = ops.AlterColumnOp(
            op.table_name,
            column,
            schema=op.schema,
            existing_type=op.existing_type,
            existing_nullable=op.existing_nullable,
            existing_server_default=op.existing_server_default,
            modify_server_default=op.modify_server_default,
            modify_comment=op.modify_comment,
            existing_comment=op.existing_comment,
        )
        plan.add(gen.plain(rest))


def _drop_constraint(op, plan: Plan, gen: Autogen) -> None:
    """Dropped in contract (IF EXISTS: a rerun finds it gone). The downgrade puts it back
    the lock-safe way, every option kept, as the kind that adds one does: a UNIQUE from
    an index built concurrently, a foreign key NOT VALID then validated; anything else
    as Alembic writes it."""
    from alembic.operations import ops

    from expandcontract.kinds import add_foreign_key, add_unique

    try:
        reverse = op.reverse()
    except ValueError:  # Alembic has not the constraint to put back
        reverse = None
    downgrade = gen.render(reverse) if reverse is not None else []
    kind = {
        ops.CreateUniqueConstraintOp: add_unique,
        ops.CreateForeignKeyOp: add_foreign_key,
    }.get(type(reverse))
    if kind is add_foreign_key and "match" not in reverse.kw:
        match = gen.foreign_key_match(op.table_name, op.schema, op.constraint_name)
        if match:  # Alembic's reflection leaves MATCH out
            reverse.kw["match"] = match
    if kind is not None:
        made = kind.autogenerate(reverse, gen)
        if "switch" in made:  # not written as it is (an option it does not take)
            downgrade = made["expand"].upgrade + made["switch"].upgrade
    op.if_exists = True
    plan.add({"contract": Phase([LOCK_TIMEOUT, *gen.render(op)], downgrade)})


def _drop_index(op, plan: Plan, gen: Autogen) -> None:
    """Dropped concurrently in contract; the downgrade builds it again as add-index builds
    the model's, every option kept (Alembic's own create_index for one ours does not take)."""
    from expandcontract.kinds import add_index

    downgrade = []
    reverse = op.reverse()  # autogenerate's drops always carry the index they drop
    if reverse.columns:
        downgrade = add_index.autogenerate(reverse, gen)["expand"].upgrade
    index = qualified(op.index_name, op.schema)
    plan.add({"contract": Phase([f"op.drop_index_concurrently({r(index)})"], downgrade)})
