"""The ``fcn-synapses`` space: a mask over the kernel synapses of a fixed chain FCN (seed 000).

The ancestor is an ``fcn`` network without skip connections or normalization (so its
convolutions form a chain: the input channels of each are the output channels of the one
before): encoder stages of ``channels`` filters (3×3, stride 2), decoder stages (bilinear + 3×3
conv, or 2×2 transposed conv), a 1×1 head. A *synapse* here is one kernel: the ``k×k`` weights
that connect one input channel to one output channel. A genome has one bit per kernel, layer
after layer in forward order, each layer laid out ``(out_channels, in_channels)`` row-major, so
every tool of the ``synapses`` space (masks, flatten, the evo-synthesis agent's synapse and
cluster models, where a cluster is an output channel) works unchanged.

Costs stay in weights: ``costs["synapses"]`` counts non-zero weights (``k×k`` per kept kernel);
``metrics["mask_synapses"]`` counts kept kernels. :attr:`FCNSynapseSpace.entry_weights` gives
the weights per kernel of each layer, so agents count paths, caps and targets in weights too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from darwin_bench.architecture import Architecture
from darwin_bench.models.fcn import build_fcn
from darwin_bench.models.masked_fcn import conv_layers
from darwin_bench.spaces.base import Genome, SearchSpace
from darwin_bench.spaces.fcn import FCNSpace
from darwin_bench.spaces.synapses import SynapseSpace, unpack_mask


class FCNSynapseSpace(SynapseSpace):
    """Masks over the kernels of a chain FCN (see the module docstring).

    Args:
        input_shape: ``(C, H, W)`` of the task's images.
        num_outputs: output channels of the head (1 for saliency).
        channels: filters of each encoder stage of the ancestor.
        upsample: ``"bilinear"`` or ``"transposed"``.
        activation: the ancestor's activation.
    """

    name = "fcn-synapses"
    widths_name = "channels"
    entry_name = "kernel"

    def __init__(
        self,
        input_shape: Sequence[int],
        num_outputs: int = 1,
        channels: Sequence[int] = (16, 32),
        upsample: str = "bilinear",
        activation: str = "relu",
    ) -> None:
        SearchSpace.__init__(self, input_shape, num_outputs)
        fcn = FCNSpace(input_shape, num_outputs, max_layers=max(1, len(channels)))
        layers = [{"channels": int(c), "kernel": 3, "convs": 1} for c in channels]
        globals_ = {
            "downsample": "stride",
            "upsample": upsample,
            "skip": False,
            "activation": activation,
            "norm": "none",
        }
        fcn.encode(fcn.build_architecture(layers, globals_))  # validates the choices
        self.ancestor = fcn.build_architecture(layers, globals_)
        self.hidden = tuple(int(c) for c in channels)
        convs = conv_layers(build_fcn(self.ancestor))
        self.shapes = tuple((int(c.out_channels), int(c.in_channels)) for c in convs)
        self.size = int(sum(o * i for o, i in self.shapes))
        #: Weights per kernel (``k*k``), per layer: what one mask entry stands for.
        self.entry_weights = tuple(int(np.prod(c.kernel_size)) for c in convs)

    def _decode(self, genome: Genome) -> Architecture:
        a = self.ancestor
        extra = self._mask_extra(genome)
        return Architecture(self.name, a.input_shape, a.num_outputs, a.layers, (), extra)

    def encode(self, architecture: Architecture) -> Genome:
        """The mask stored in ``architecture.extra["mask"]``.

        Raises:
            ValueError: when the architecture is not a mask over this space's ancestor.
        """
        if architecture.space != self.name or "mask" not in architecture.extra:
            raise ValueError("architecture is not in the fcn-synapses space (no extra['mask'])")
        if list(architecture.layers) != list(self.ancestor.layers):
            raise ValueError("architecture layers do not match this space's ancestor FCN")
        return unpack_mask(str(architecture.extra["mask"]), self.size)
