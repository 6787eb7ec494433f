"""`tandem match`: run the matching engine on a JSON problem file (contract in docs/matching.md)."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bot.matching import MatchProblem


def _fail(message: str) -> typer.Exit:
    """One line on stderr, exit code 2, nothing on stdout."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _read_problem(input: Path) -> MatchProblem:
    """The problem in `input`, checked; the file's text and decoded JSON are dropped on return."""
    from bot.matching import ProblemError, problem_from_json

    try:
        text = input.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _fail(f"input file not found: {input}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read input file {input}: {exc}") from None
    # Decoding and checking a large round builds millions of small dicts, lists and tuples without
    # cycles; the cyclic collector would rescan them again and again (over half the parse time at
    # 50,000 people). Pause it, then freeze what was built so later collections skip it.
    gc.disable()
    try:
        data = json.loads(text)
        del text
        problem = problem_from_json(data)
    except json.JSONDecodeError as exc:
        raise _fail(f"{input}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ProblemError as exc:
        raise _fail(str(exc)) from None
    finally:
        gc.freeze()
        gc.enable()
    return problem


def _dumps(document: dict) -> str:
    """The result JSON with one group or unmatched entry per line: readable and diffable, and every
    line goes through json's C encoder (`indent=` falls back to the pure-Python one, seconds at 50,000)."""
    line = json.JSONEncoder(ensure_ascii=False).encode
    parts = ["{"]
    for key in ("groups", "unmatched"):
        items = document[key]
        body = ",\n".join(f"    {line(item)}" for item in items)
        parts.append(f'  "{key}": [\n{body}\n  ],' if items else f'  "{key}": [],')
    parts.append(f'  "stats": {line(document["stats"])}')
    parts.append("}")
    return "\n".join(parts)


def match(
    input: Path = typer.Option(..., "--input", help="Problem JSON file."),
    output: Path | None = typer.Option(None, "--output", help="Write the result here instead of stdout."),
    exact: bool = typer.Option(False, "--exact", help="Use the exact solver even when it is slower."),
) -> None:
    """Match one round from a problem file and print or write the result JSON."""
    # imported here: the solvers load SciPy, which would slow every other command (even --help) by seconds
    from bot.matching import result_to_json, solve

    problem = _read_problem(input)
    document = _dumps(result_to_json(solve(problem, exact=exact)))
    if output is None:
        typer.echo(document)
    else:
        try:
            output.write_text(document + "\n", encoding="utf-8")
        except OSError as exc:
            raise _fail(f"cannot write output file {output}: {exc}") from None


if __name__ == "__main__":
    typer.run(match)
