from __future__ import annotations

import subprocess
import sys

import pytest

from darwin_bench.architecture import Architecture

ARCH = Architecture(
    "mlp",
    (64,),
    10,
    (
        {"type": "dense", "units": 32, "activation": "relu"},
        {"type": "dense", "units": 10, "activation": None},
    ),
)
# Pinned: if this changes, every cache key and every published run log changes with it.
PINNED_HASH = "4740ec2dd19a0cbf49f3ee180b5b9df31a67e132c146a9f4b0abaa6b108c1c79"


def test_json_round_trip_keeps_hash() -> None:
    clone = Architecture.from_json(ARCH.to_json())
    assert clone == ARCH
    assert clone.hash == ARCH.hash
    assert Architecture.from_dict(ARCH.to_dict()).to_dict() == ARCH.to_dict()


def test_hash_is_stable_across_processes() -> None:
    code = (
        "from darwin_bench.architecture import Architecture;"
        f"print(Architecture.from_json({ARCH.to_json()!r}).hash)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == PINNED_HASH


def test_hash_is_pinned() -> None:
    assert ARCH.hash == PINNED_HASH


def test_hash_depends_on_content_not_key_order() -> None:
    swapped = Architecture(
        "mlp",
        (64,),
        10,
        (
            {"activation": "relu", "units": 32, "type": "dense"},
            {"activation": None, "type": "dense", "units": 10},
        ),
    )
    assert swapped.hash == ARCH.hash
    wider = Architecture(
        "mlp", (64,), 10, ({"type": "dense", "units": 33, "activation": "relu"}, ARCH.layers[1])
    )
    assert wider.hash != ARCH.hash


@pytest.mark.parametrize(
    "data, field",
    [
        ({"space": "mlp", "input_shape": [64], "num_outputs": 10}, "layers"),
        ({"space": "mlp", "input_shape": [64], "layers": []}, "num_outputs"),
    ],
)
def test_missing_fields_are_named(data: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Architecture.from_dict(data)
