"""`Architecture`: a declarative, JSON-serializable, hashable description of one network."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Re-exported: the content hash of JSON values lives in darwin_bench.hashing.
from darwin_bench.hashing import canonical_json, content_hash

__all__ = ["LAYER_TYPES", "Architecture", "canonical_json", "content_hash"]

#: Layer types the generic sequential builder understands, with their required keys.
LAYER_TYPES: dict[str, tuple[str, ...]] = {
    "dense": ("units",),
    "conv2d": ("filters", "kernel"),
    "maxpool2d": ("size",),
    "avgpool2d": ("size",),
    "flatten": (),
    "globalavgpool": (),
    "dropout": ("rate",),
}


def _freeze(value: Any) -> Any:
    """Normalize a JSON-like value: tuples become lists, numpy scalars become Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _freeze(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_freeze(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value


@dataclass(frozen=True)
class Architecture:
    """One network, described as data.

    Args:
        space: name of the search space that produced it (``"mlp"``, ``"cnn"``, ...).
        input_shape: shape of one input example, without the batch dimension.
        num_outputs: size of the output layer.
        layers: ordered layer descriptions, e.g. ``{"type": "dense", "units": 64,
            "activation": "relu"}``; the output layer is included.
        connections: extra edges for non-sequential spaces (e.g. recurrent connections).
        extra: any further space-specific data (e.g. a synapse mask); part of the hash.
    """

    space: str
    input_shape: tuple[int, ...]
    num_outputs: int
    layers: tuple[dict[str, Any], ...]
    connections: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(d) for d in self.input_shape))
        object.__setattr__(self, "layers", tuple(_freeze(dict(la)) for la in self.layers))
        object.__setattr__(self, "connections", tuple(_freeze(dict(c)) for c in self.connections))
        object.__setattr__(self, "extra", _freeze(dict(self.extra)))
        if not self.space:
            raise ValueError("space must be a non-empty string")
        if int(self.num_outputs) < 1:
            raise ValueError(f"num_outputs must be >= 1; got {self.num_outputs!r}")
        for i, layer in enumerate(self.layers):
            if "type" not in layer:
                raise ValueError(f"layers[{i}] has no 'type'; allowed: {sorted(LAYER_TYPES)}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable dict (inverse of :meth:`from_dict`)."""
        return {
            "space": self.space,
            "input_shape": list(self.input_shape),
            "num_outputs": int(self.num_outputs),
            "layers": [dict(la) for la in self.layers],
            "connections": [dict(c) for c in self.connections],
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Architecture:
        """Build an architecture from :meth:`to_dict` output.

        Raises:
            ValueError: when a required field is missing.
        """
        missing = [k for k in ("space", "input_shape", "num_outputs", "layers") if k not in data]
        if missing:
            raise ValueError(f"architecture is missing field(s) {missing}")
        return cls(
            space=str(data["space"]),
            input_shape=tuple(data["input_shape"]),
            num_outputs=int(data["num_outputs"]),
            layers=tuple(data["layers"]),
            connections=tuple(data.get("connections", ())),
            extra=dict(data.get("extra", {})),
        )

    def to_json(self) -> str:
        """Return the canonical JSON text."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Architecture:
        """Parse :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    @cached_property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON: stable across processes, machines and Python versions."""
        return content_hash(self.to_dict())

    def layer_types(self) -> list[str]:
        """Return the type of each layer, in order."""
        return [str(la["type"]) for la in self.layers]

    def __hash__(self) -> int:
        return int(self.hash[:16], 16)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Architecture) and self.hash == other.hash
