"""One way to declare an ``op.*`` operation: a plain function becomes Alembic's operation.

Alembic wants three things per operation: a ``MigrateOperation`` subclass holding the
arguments, a classmethod it proxies as ``op.<name>(...)``, and an implementation.
:func:`operation` makes all three from one function::

    @operation
    def drop_not_null(operations, table_name, column_name):
        \"\"\"ALTER COLUMN ... DROP NOT NULL (catalog only).\"\"\"
        ...

The function's signature (after ``operations``) is the op's signature, its docstring
the op's help. The op object keeps the call's arguments as attributes and in
``arguments``; ``reverse=`` names the op that undoes it (Alembic's ``reverse()``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from alembic.operations import MigrateOperation, Operations

from expandcontract.ops import execution

OPERATIONS: dict[str, type[MigrateOperation]] = {}


def operation(fn: Callable | None = None, *, reverse: Callable | None = None):
    """Register ``fn(operations, ...)`` as ``op.<fn name>(...)``; returns ``fn`` unchanged,
    so other operations call it directly. ``reverse(op)`` returns ``(name, arguments)``
    of the operation that undoes ``op``."""

    def register(fn: Callable) -> Callable:
        name = fn.__name__
        parameters = list(inspect.signature(fn).parameters.values())[1:]
        signature = inspect.Signature(parameters)

        def __init__(self, *args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            self.arguments = dict(bound.arguments)
            for key, value in self.arguments.items():
                setattr(self, key, value)

        namespace = {"__init__": __init__, "__doc__": fn.__doc__, "__module__": fn.__module__}
        if reverse is not None:

            def reverse_op(self):
                other, arguments = reverse(self)
                return OPERATIONS[other](**arguments)

            namespace["reverse"] = reverse_op
        camel = "".join(part.title() for part in name.split("_")) + "Op"
        cls = type(camel, (MigrateOperation,), namespace)
        setattr(cls, name, classmethod(_proxy(name, parameters, fn.__doc__)))
        Operations.register_operation(name)(cls)
        Operations.implementation_for(cls)(lambda operations, op: fn(operations, **op.arguments))
        OPERATIONS[name] = cls
        return fn

    return register(fn) if fn is not None else register


def _proxy(name: str, parameters: list[inspect.Parameter], doc: str | None) -> Callable:
    """``def name(cls, operations, <parameters>): return operations.invoke(cls(...))``, with
    the parameters spelled out: Alembic reads them off the code object to write ``op.name``."""
    defaults = {}
    spelled = []
    for parameter in parameters:
        if parameter.default is inspect.Parameter.empty:
            spelled.append(parameter.name)
        else:
            defaults[f"_default_{parameter.name}"] = parameter.default
            spelled.append(f"{parameter.name}=_default_{parameter.name}")
    call = ", ".join(f"{p.name}={p.name}" for p in parameters)
    source = (
        f"def {name}(cls, operations, {', '.join(spelled)}):\n"
        f"    return operations.invoke(cls({call}))\n"
    )
    namespace = dict(defaults)
    exec(source, namespace)
    method = namespace[name]
    method.__doc__ = doc
    return method


def online(operations) -> bool:
    """True when the revision runs against a database (not ``--sql`` or the linter): the
    lock-safe executor is installed on the way."""
    context = operations.get_context()
    if not context.as_sql:
        execution.install(context, execution.settings_of(context))
        return True
    return False


def needs_database(operations, what: str) -> None:
    """Refuse to be written out as SQL (``alembic upgrade --sql``): ``what`` reads the live
    database (its catalog, its rows) to decide what to run, so a script made without it
    would be wrong. The linter renders it anyway, as a preview (it sets
    ``expandcontract_render`` on its offline context)."""
    context = operations.get_context()
    if context.as_sql and not context.opts.get("expandcontract_render"):
        from alembic.util import CommandError

        raise CommandError(
            f"expandcontract: {what} reads the live database to decide what to run, so it "
            "cannot be written out as SQL (alembic upgrade --sql); run the phases with "
            "`expandcontract upgrade PHASE` against the database (`expandcontract lint` "
            "previews what they run)"
        )
