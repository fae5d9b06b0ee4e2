"""How every command reports an expected failure: one ``error: ...`` line on stderr and exit status 1.

Commands stay thin: they call one library function and let the failures it
documents surface here, instead of each catching and printing them itself.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(Exception):
    """A problem a command reports as it is (bad option combination, nothing to do)."""


def err(message: str) -> None:
    """One line on stderr, the way every command reports progress and problems."""
    typer.echo(message, err=True)


def reports_errors(*expected: type[BaseException]) -> Callable[[F], F]:
    """Turn :class:`CommandError` and the ``expected`` exceptions into ``error: MESSAGE`` and exit 1.

    Anything else is a bug and keeps its traceback.
    """
    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return command(*args, **kwargs)
            except (CommandError, *expected) as exc:
                err(f"error: {exc}")
                raise typer.Exit(1) from None
        return run  # type: ignore[return-value]
    return decorate
