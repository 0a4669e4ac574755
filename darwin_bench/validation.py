"""Input checks shared by the library: every error names the field and what is allowed."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, get_type_hints

from pydantic import TypeAdapter, ValidationError


def check_choice(field: str, value: Any, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``.

    Raises:
        ValueError: naming ``field`` and listing the allowed values.
    """
    options = list(allowed)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{field} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_positive_int(field: str, value: Any) -> int:
    """Return ``value`` as an ``int`` if it is a whole number >= 1.

    Raises:
        ValueError: naming ``field`` when it is not a positive integer.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a positive integer; got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{field} must be a positive integer; got {value!r}")
    if int(value) < 1:
        raise ValueError(f"{field} must be a positive integer (>= 1); got {value!r}")
    return int(value)


#: The largest seed: what every seeded library takes (NumPy's legacy seeding, SB3).
MAX_SEED = 2**32 - 1


def check_seed(field: str, value: Any) -> int:
    """Return ``value`` if it is an integer seed in ``0..MAX_SEED``.

    Raises:
        ValueError: naming ``field`` otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ValueError(f"{field} must be an integer in 0..{MAX_SEED}; got {value!r}")
    return int(value)


def check_positive_float(field: str, value: Any) -> float:
    """Return ``value`` as a finite ``float`` > 0.

    Raises:
        ValueError: naming ``field`` when it is not a finite positive number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a positive number; got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{field} must be a finite number > 0; got {value!r}")
    return float(value)


def accepted_kwargs(
    factory: Callable[..., Any], skip: int = 0
) -> tuple[dict[str, inspect.Parameter], bool]:
    """The keyword arguments ``factory`` accepts, by name, and whether it takes any others.

    A class's ``__init__`` that forwards ``**kwargs`` to its base is followed up the MRO, so a
    subclass that only sets defaults still reports its base's arguments; a function with an
    undeclared ``**kwargs`` accepts any name (the second value is then True).

    Args:
        factory: a class, function or ``functools.partial``.
        skip: leading positional parameters the caller fills itself (e.g. a space's
            ``input_shape`` and ``num_outputs``).
    """
    if isinstance(factory, type):
        functions = [k.__dict__["__init__"] for k in factory.__mro__ if "__init__" in k.__dict__]
        functions = [f for f in functions if f is not object.__init__]
    else:
        functions = [factory]
    names: dict[str, inspect.Parameter] = {}
    for function in functions:
        params = list(inspect.signature(function).parameters.values())
        if isinstance(factory, type):
            params = params[1:]  # self
        for param in params[skip:]:
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                names.setdefault(param.name, param)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names, False
    return names, True


def check_kwargs(field: str, factory: Callable[..., Any], kwargs: Any, skip: int = 0) -> dict:
    """Check keyword arguments for ``factory`` before calling it: names, then JSON types.

    Each JSON-like value is checked strictly against its parameter's annotation, as it would
    read from JSON (an ``int`` accepts ``3``, not ``3.0``, ``"3"`` or ``true``; a ``float``
    accepts ``3``; a tuple accepts a list). Values that are not JSON (objects passed from
    Python) and unannotated parameters are left to the factory. Ranges are the factory's job.

    Returns:
        ``kwargs`` as a new ``dict``.

    Raises:
        ValueError: naming ``field`` and the unknown key with the allowed ones, or the key
            whose value has the wrong type; or when ``kwargs`` is not a mapping.
    """
    if not isinstance(kwargs, Mapping):
        raise ValueError(f"{field} must be a mapping of names to values; got {kwargs!r}")
    kwargs = dict(kwargs)
    params, open_ended = accepted_kwargs(factory, skip)
    unknown = sorted(str(k) for k in kwargs if k not in params)
    if unknown and not open_ended:
        raise ValueError(
            f"{field}: unknown key(s) {unknown}; allowed: {', '.join(params) or 'none'}"
        )
    hints = _type_hints(factory)
    for name, value in kwargs.items():
        hint = hints.get(name)
        if hint is None or hint is Any:
            continue
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            continue  # a Python object (a Task, a Path, NaN): the factory checks it
        try:
            TypeAdapter(hint).validate_json(text, strict=True)
        except ValidationError as exc:
            expected = _describe(hint)
            raise ValueError(
                f"{field}: {name!r} must be {expected} ({exc.errors()[0]['msg']}); got {value!r}"
            ) from None
        except Exception:  # an annotation pydantic cannot check: leave it to the factory
            continue
    return kwargs


def _type_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    """Resolved annotations of ``factory``'s parameters (of every ``__init__`` in a class's
    MRO); empty where they cannot be resolved."""
    functions = (
        [k.__dict__["__init__"] for k in reversed(factory.__mro__) if "__init__" in k.__dict__]
        if isinstance(factory, type)
        else [getattr(factory, "func", factory)]
    )
    hints: dict[str, Any] = {}
    for function in functions:
        try:
            hints.update(get_type_hints(function))
        except Exception:  # forward references to names only imported for type checking
            continue
    hints.pop("return", None)
    return hints


def _describe(hint: Any) -> str:
    """A short human name of a type annotation (``int``, ``list[int]``, ...)."""
    name = getattr(hint, "__name__", None)
    if isinstance(name, str) and not getattr(hint, "__args__", None):
        return name
    return str(hint).replace("collections.abc.", "").replace("typing.", "")
