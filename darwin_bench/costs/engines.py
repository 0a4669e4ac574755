"""The engines host latency is measured in: ONNX Runtime (deployed) and PyTorch eager.

A :class:`Runner` holds one network ready to run on one input; ``block(n)`` runs ``n`` forward
passes back to back, which is what the timing protocol (:mod:`darwin_bench.costs.latency`)
times. Runners are built by :func:`make_runner` and used as context managers: eager runners put
the module in eval mode and restore its mode on exit.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from darwin_bench.costs.onnx_runtime import OnnxConfig, deploy, engine_info
from darwin_bench.validation import check_choice

#: Engine name -> what it is. ``onnxruntime`` is the deployed engine ``latency_ms`` uses.
ENGINES: dict[str, str] = {
    "onnxruntime": "ONNX Runtime, CPU execution provider, after an export checked against PyTorch",
    "torch-eager": "PyTorch eager mode under torch.inference_mode",
}


class Runner(Protocol):
    """One network ready to run forward passes on one input."""

    engine: str
    info: dict[str, Any]

    def block(self, n: int) -> None:
        """Run ``n`` forward passes back to back."""

    def __enter__(self) -> Runner: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class EagerRunner:
    """PyTorch eager mode: ``model(example)`` under ``torch.inference_mode``."""

    engine = "torch-eager"

    def __init__(self, model: nn.Module, example: torch.Tensor, threads: int) -> None:
        self.model, self.example = model, example
        self.info: dict[str, Any] = {
            "engine": self.engine,
            "version": torch.__version__,
            "threads": threads,
        }
        self._was_training = model.training

    def block(self, n: int) -> None:
        model, example = self.model, self.example
        with torch.inference_mode():
            for _ in range(n):
                model(example)

    def __enter__(self) -> EagerRunner:
        self._was_training = self.model.training
        self.model.eval()
        return self

    def __exit__(self, *exc: object) -> None:
        self.model.train(self._was_training)


class OrtRunner:
    """ONNX Runtime: the exported network with its input and outputs bound once (IO binding).

    Raises:
        LatencyError: from :func:`darwin_bench.costs.onnx_runtime.deploy`.
    """

    engine = "onnxruntime"

    def __init__(
        self,
        model: nn.Module,
        example: torch.Tensor,
        threads: int,
        onnx: OnnxConfig | None = None,
    ) -> None:
        deployed = deploy(model, example, threads, onnx)
        self.session = deployed.session
        self.info = {
            **engine_info(threads, onnx),
            "export_ms": deployed.export_ms,
            "session_ms": deployed.session_ms,
            "parity": deployed.parity,
        }
        self._input = np.ascontiguousarray(example.detach().cpu().numpy())
        self.binding = self.session.io_binding()
        self.binding.bind_cpu_input(self.session.get_inputs()[0].name, self._input)
        for output in self.session.get_outputs():
            self.binding.bind_output(output.name)

    def block(self, n: int) -> None:
        run, binding = self.session.run_with_iobinding, self.binding
        for _ in range(n):
            run(binding)

    def __enter__(self) -> OrtRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.binding.clear_binding_inputs()
        self.binding.clear_binding_outputs()


def make_runner(
    engine: str,
    model: nn.Module,
    example: torch.Tensor,
    threads: int = 1,
    onnx: OnnxConfig | None = None,
) -> Runner:
    """A runner of ``model`` on ``example`` in ``engine`` (one of :data:`ENGINES`).

    Raises:
        ValueError: for an unknown engine.
        LatencyError: when ONNX Runtime cannot run the network as PyTorch does.
    """
    check_choice("engine", engine, ENGINES)
    if engine == "onnxruntime":
        return OrtRunner(model, example, threads, onnx)
    return EagerRunner(model, example, threads)
