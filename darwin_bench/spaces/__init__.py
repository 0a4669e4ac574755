"""Search spaces: genomes, their Gymnasium action spaces, and the operators on them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from darwin_bench.spaces.base import Gene, Genome, SearchSpace
from darwin_bench.spaces.cnn import CNNSpace
from darwin_bench.spaces.fcn import FCNSpace
from darwin_bench.spaces.fcn_synapses import FCNSynapseSpace
from darwin_bench.spaces.layered import LayeredSpace
from darwin_bench.spaces.mlp import MLPSpace
from darwin_bench.spaces.rnn import RNNSpace
from darwin_bench.spaces.squeeze import SqueezeSpace
from darwin_bench.spaces.synapses import SynapseSpace
from darwin_bench.validation import check_choice, check_kwargs

SpaceFactory = Callable[..., SearchSpace]

#: Space name -> class (or factory taking ``input_shape, num_outputs, **kwargs``).
SPACES: dict[str, SpaceFactory] = {"mlp": MLPSpace, "cnn": CNNSpace, "rnn": RNNSpace}
SPACES["squeeze"] = SqueezeSpace  # a trained base MLP squeezed layer by layer (seed 004)
SPACES["fcn"] = FCNSpace  # encoder-decoder FCNs for saliency maps (seed 000)
SPACES["synapses"] = SynapseSpace  # masks over a trained ancestor MLP (seed 000)
SPACES["fcn-synapses"] = FCNSynapseSpace  # kernel masks over a trained ancestor FCN (seed 000)


def register_space(name: str, factory: SpaceFactory) -> None:
    """Make a space available by name (to envs, the CLI and :func:`make_space`)."""
    SPACES[name] = factory


def make_space(
    name: str, input_shape: Sequence[int], num_outputs: int, **kwargs: Any
) -> SearchSpace:
    """Instantiate the space ``name`` for a task's input shape and output count.

    Raises:
        ValueError: when ``name`` is not a known space, or for a keyword argument the space
            does not take or of the wrong type (naming ``space_kwargs`` and the key).
    """
    check_choice("space", name, SPACES)
    field = f"space_kwargs (space {name!r})"
    kwargs = check_kwargs(field, SPACES[name], kwargs, skip=2)
    try:
        return SPACES[name](input_shape, num_outputs, **kwargs)
    except ValueError as exc:  # a range the space checks itself: say which kwargs it was
        raise ValueError(f"{field}: {exc}" if kwargs else f"space {name!r}: {exc}") from None


__all__ = [
    "SPACES",
    "CNNSpace",
    "Gene",
    "Genome",
    "LayeredSpace",
    "MLPSpace",
    "RNNSpace",
    "SearchSpace",
    "make_space",
    "register_space",
]
