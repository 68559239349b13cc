"""Conditions on sequence flows, evaluated without ``eval``.

SpiffWorkflow's default script engine runs Python with ``eval``/``exec``; a process designed in a
browser or imported from a file must not be able to run code on the server. This engine evaluates
expressions with simpleeval over the instance's form data and refuses scripts altogether.
"""

from __future__ import annotations

from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

SAFE_FUNCTIONS = {"len": len, "min": min, "max": max, "abs": abs, "round": round}


def evaluate(expression: str, names: dict[str, Any]) -> Any:
    """The value of ``expression`` over ``names``; an unknown name reads as ``None``."""
    evaluator = EvalWithCompoundTypes(names=_Names(names), functions=SAFE_FUNCTIONS)
    return evaluator.eval(expression)


def check(expression: str) -> str | None:
    """Why ``expression`` cannot be used as a condition, or ``None`` when it can."""
    try:
        evaluate(expression, {})
    except InvalidExpression as exc:
        return str(exc)
    except SyntaxError as exc:
        return exc.msg
    except Exception:
        return None
    return None


class _Names(dict[str, Any]):
    def __missing__(self, key: str) -> None:
        return None


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Evaluates conditions over ``form_data`` (set per loaded instance) and the task's data."""

    def __init__(self, form_data: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.form_data = form_data or {}

    def validate(self, expression: str) -> None:
        problem = check(expression)
        if problem is not None:
            raise SyntaxError(problem)

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        names = {**task.data, **self.form_data}
        try:
            return evaluate(expression, names)
        except TypeError:
            return False  # a comparison with a field left empty does not hold
        except Exception as exc:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}'", task=task, exception=exc
            ) from exc

    def execute(self, task: Any, script: str, external_context: Any = None) -> Any:
        raise WorkflowTaskException("scripts are not allowed in Campus processes", task=task)
