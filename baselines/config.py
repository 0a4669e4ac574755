"""`Config`: the base of every documented settings dataclass (agents, reproductions).

A config is a ``@dataclass`` whose fields are documented in its docstring. It is built from
JSON-like data (a CLI's ``--agent-config`` / ``--options``, a run log's header) by
:meth:`Config.from_dict`, which refuses unknown keys and values of the wrong type with an error
naming the field, and turned back into JSON by :meth:`Config.to_dict`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar, get_type_hints

from pydantic import TypeAdapter, ValidationError

C = TypeVar("C", bound="Config")


@dataclass
class Config:
    """Base of settings dataclasses; subclasses add documented fields and ``__post_init__``
    checks of their ranges."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable settings."""
        return asdict(self)

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any] | None) -> C:
        """Build a config from JSON-like data, refusing unknown keys and ill-typed values.

        Each value is checked strictly against its field's annotation (an ``int`` field accepts
        ``3`` but not ``"3"``, ``3.5`` or ``True``; a ``float`` field accepts ``3``; a ``bool``
        field only ``true``/``false``); ranges are the subclass's ``__post_init__``'s job.

        Raises:
            ValueError: naming an unknown key and the allowed ones, or a field whose value has
                the wrong type.
        """
        data = dict(data or {})
        names = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in names]
        if unknown:
            raise ValueError(f"{cls.__name__} key(s) {unknown} unknown; allowed: {names}")
        hints = get_type_hints(cls)
        for name, value in data.items():
            try:
                TypeAdapter(hints[name]).validate_python(value, strict=True)
            except ValidationError as exc:
                message = exc.errors()[0]["msg"]
                raise ValueError(
                    f"{cls.__name__} field {name!r}: {message}; got {value!r}"
                ) from None
        return cls(**data)
