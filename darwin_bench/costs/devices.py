"""Device profiles: the figures the latency and energy models use, each with its source.

Profiles are JSON files. The built-in ones ship in ``darwin_bench/costs/profiles/``; a user
adds one with :func:`register_device` (or ``darwin-bench devices --profile FILE``). A profile
with a missing, negative or unsourced figure is refused with the field named.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

#: Figures that must each be given with a public source in ``sources``.
SOURCED_FIELDS: tuple[str, ...] = (
    "peak_gflops",
    "memory_bandwidth_gbs",
    "on_chip_bytes",
    "layer_overhead_us",
    "inference_overhead_us",
    "unstructured_sparsity",
    "structured_sparsity",
)


class DeviceProfile(BaseModel):
    """One device's figures for the roofline latency model and the energy model.

    Attributes:
        name: short id used in cost names, e.g. ``raspberry-pi-4`` (``latency_ms@<name>``).
        description: what hardware and software setup the figures describe.
        kind: ``cpu``, ``gpu`` or ``accelerator``.
        dtype: the arithmetic the device runs networks in (``fp32``, ``fp16`` or ``int8``);
            selects the per-operation energy and the bytes per weight and activation.
        peak_gflops: peak arithmetic throughput in GFLOP/s (GOP/s for int8) for that dtype.
        memory_bandwidth_gbs: off-chip (DRAM or host link) bandwidth in GB/s.
        on_chip_bytes: on-chip memory (last-level cache or SRAM) that holds weights and
            activations between inferences; traffic that fits costs no DRAM bandwidth.
        layer_overhead_us: fixed time per layer call (kernel launch, framework dispatch).
        inference_overhead_us: fixed time per inference (invocation, host transfer).
        unstructured_sparsity: whether sparse kernels skip zero weights scattered anywhere.
        sparse_efficiency: share of dense throughput that sparse kernels reach (used only when
            ``unstructured_sparsity``).
        structured_sparsity: whether dropping whole clusters (neurons, filters) shrinks the
            dense work (true for any device that runs the compacted smaller network).
        calibration: fitted per-layer-kind coefficients (host profile only), see
            :mod:`darwin_bench.costs.predictor`.
        sources: a public source (datasheet, vendor page, paper) or measurement for each
            figure of :data:`SOURCED_FIELDS`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    description: str
    kind: Literal["cpu", "gpu", "accelerator"]
    dtype: Literal["fp32", "fp16", "int8"]
    peak_gflops: float = Field(gt=0)
    memory_bandwidth_gbs: float = Field(gt=0)
    on_chip_bytes: int = Field(ge=0)
    layer_overhead_us: float = Field(ge=0)
    inference_overhead_us: float = Field(ge=0)
    unstructured_sparsity: bool
    sparse_efficiency: float = Field(default=1.0, gt=0, le=1)
    structured_sparsity: bool
    calibration: dict[str, Any] | None = None
    sources: dict[str, str]

    @model_validator(mode="after")
    def _every_figure_has_a_source(self) -> DeviceProfile:
        missing = [f for f in SOURCED_FIELDS if not self.sources.get(f, "").strip()]
        if missing:
            raise ValueError(f"sources is missing an entry for {missing}")
        return self

    @property
    def dtype_bytes(self) -> int:
        """Bytes per weight or activation element in the device's dtype."""
        return {"fp32": 4, "fp16": 2, "int8": 1}[self.dtype]


def parse_profile(data: Any, origin: str = "profile") -> DeviceProfile:
    """Validate profile data.

    Raises:
        ValueError: naming the first bad field (missing, negative, wrong type, unsourced).
    """
    try:
        return DeviceProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "profile"
        raise ValueError(f"{origin}: field {where!r}: {err['msg']}") from None


def load_profile(path: str | Path) -> DeviceProfile:
    """Read and validate a profile JSON file.

    Raises:
        ValueError: for invalid JSON or an invalid profile (the field is named).
        FileNotFoundError: when the file does not exist.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from None
    return parse_profile(data, str(path))


def _builtin_profiles() -> dict[str, DeviceProfile]:
    out: dict[str, DeviceProfile] = {}
    folder = resources.files("darwin_bench.costs").joinpath("profiles")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            profile = parse_profile(json.loads(entry.read_text()), entry.name)
            out[profile.name] = profile
    return out


#: Device name -> profile; the built-in profiles, plus any registered at run time.
DEVICES: dict[str, DeviceProfile] = _builtin_profiles()


def register_device(profile: DeviceProfile | str | Path) -> DeviceProfile:
    """Make a profile (or a profile file) available as ``<cost>@<name>``."""
    if not isinstance(profile, DeviceProfile):
        profile = load_profile(profile)
    DEVICES[profile.name] = profile
    return profile


def get_device(name: str) -> DeviceProfile:
    """The profile of device ``name``.

    Raises:
        ValueError: listing the known devices when ``name`` is not one.
    """
    if name not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(map(repr, DEVICES))}; got {name!r}")
    return DEVICES[name]
