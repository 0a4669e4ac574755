"""Device profiles: the built-in ones are complete and sourced; bad files are refused by field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darwin_bench.costs import DEVICES, get_device, load_profile, register_device
from darwin_bench.costs.devices import SOURCED_FIELDS

REQUIRED = {
    "host-cpu",
    "raspberry-pi-4",
    "jetson-nano",
    "phone-cpu",
    "edge-tpu",
    "datacenter-gpu",
}


def test_required_devices_ship_with_a_source_per_figure() -> None:
    assert set(DEVICES) >= REQUIRED
    for device in DEVICES.values():
        assert all(device.sources[f].strip() for f in SOURCED_FIELDS)


def test_host_profile_is_calibrated() -> None:
    host = get_device("host-cpu")
    assert host.calibration is not None
    assert "measured" in host.sources["peak_gflops"]


def test_unknown_device_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="device must be one of .*'raspberry-pi-4'"):
        get_device("pi-5")


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(data))
    return path


def _valid() -> dict:
    return get_device("raspberry-pi-4").model_dump(mode="json")


def test_profile_round_trips_and_registers(tmp_path: Path) -> None:
    data = {**_valid(), "name": "my-board"}
    profile = register_device(_write(tmp_path, data))
    try:
        assert get_device("my-board") == profile
    finally:
        del DEVICES["my-board"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"peak_gflops": None}, "peak_gflops"),
        ({"memory_bandwidth_gbs": -1.0}, "memory_bandwidth_gbs"),
        ({"layer_overhead_us": -0.5}, "layer_overhead_us"),
        ({"on_chip_bytes": -1}, "on_chip_bytes"),
        ({"kind": "fpga"}, "kind"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_profile_is_refused_naming_the_field(tmp_path: Path, change: dict, field: str) -> None:
    data = {**_valid(), **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValueError, match=f"field '{field}'"):
        load_profile(_write(tmp_path, data))


def test_profile_without_a_source_is_refused(tmp_path: Path) -> None:
    data = _valid()
    del data["sources"]["memory_bandwidth_gbs"]
    with pytest.raises(ValueError, match="memory_bandwidth_gbs"):
        load_profile(_write(tmp_path, data))
