"""Rewrite decorated module-level functions as a plain definition and an assignment.

mutmut 3 does not mutate a decorated function, and every check is one (``@predicate``,
``@probe``, ``@plans``, ``@lru_cache``). ``scripts/mutation`` runs this on a copy of the
tree, never on the sources: ``@d(args)\\ndef f(...)`` becomes ``def f(...)`` followed by
``f = d(args)(f)``, which is what the decorator syntax means, so the copy behaves the same
and mutmut can put its trampoline under the name the registry then records. Caches
(``@lru_cache``) are dropped: they change speed, not results.

    python scripts/mutation_undecorate.py FILE.py ...
"""

from __future__ import annotations

import sys
from pathlib import Path

import libcst as cst


class _Undecorate(cst.CSTTransformer):
    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = []
        for statement in updated.body:
            if isinstance(statement, cst.FunctionDef) and statement.decorators:
                body.append(statement.with_changes(decorators=[]))
                value: cst.BaseExpression = cst.Name(statement.name.value)
                for decorator in reversed(statement.decorators):
                    if _is_cache(decorator.decorator):
                        continue
                    value = cst.Call(func=decorator.decorator, args=[cst.Arg(value)])
                if isinstance(value, cst.Call):
                    body.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(statement.name.value))], value)]))
            else:
                body.append(statement)
        return updated.with_changes(body=body)


def _is_cache(expression: cst.BaseExpression) -> bool:
    """``@lru_cache`` / ``@cache``: dropped, since a result cached before the test process
    forks (at collection) would be returned to every mutant, which would then survive."""
    target = expression.func if isinstance(expression, cst.Call) else expression
    name = target.attr.value if isinstance(target, cst.Attribute) else target.value if isinstance(target, cst.Name) else ""
    return name in ("lru_cache", "cache")


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        module = cst.parse_module(path.read_text(encoding="utf-8"))
        path.write_text(module.visit(_Undecorate()).code, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
