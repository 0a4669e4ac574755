"""Train a population of dense networks as one batched computation.

The math is that of :func:`darwin_bench.training.train_supervised`: AdamW (decoupled weight
decay, optional global-norm gradient clipping per network) on the cross-entropy of shuffled
minibatches. Each network keeps its own initial weights and its own minibatch order (a
generator seeded with its seed, as in the per-model trainer); its dropout masks come from its
own generator too. Forward and backward passes are written out by hand: one batched matmul per
group of same-shaped layers (:mod:`darwin_bench.batched.layout`), one call per activation
function, one fused AdamW call for every parameter of every network.

What is guaranteed: a network's trained weights, losses and metrics are bit-for-bit the same
whether it is trained alone or with any other networks (same machine, torch build and thread
count); nothing a network computes reads another network's numbers, and the kernels see the
same shapes and alignment for it in every batch. The per-model trainer is a different
program (other kernels, another dropout stream): its results agree in distribution, not bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch

from darwin_bench.batched.activations import activate, activate_backward
from darwin_bench.batched.dense import DenseNet, LayerWeights
from darwin_bench.batched.layout import ALIGN_ROWS, Group, Layout, round_up
from darwin_bench.seeding import derive_seed
from darwin_bench.training import TrainConfig

#: Rows per evaluation chunk (a multiple of ``ALIGN_ROWS``).
EVAL_CHUNK = 512


def _take(buffer: torch.Tensor, rows: slice | torch.Tensor) -> torch.Tensor:
    return buffer[rows] if isinstance(rows, slice) else buffer.index_select(0, rows)


@contextmanager
def _output_threads(g: Group) -> Iterator[None]:
    """Run an output group's products on one thread.

    Their results are ``(classes, batch)`` blocks of few rows, which MKL splits differently on
    more threads (other bits); every other kernel here gives the same bits on 1 or 2 threads.
    So a network's bits do not depend on the trainer's thread count either.
    """
    threads = torch.get_num_threads()
    if not g.output or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class _Buffers:
    """Activation (and, for training, gradient) buffers for one padded batch size."""

    def __init__(self, layout: Layout, rows: int, training: bool) -> None:
        n, classes = len(layout.nets), layout.nets[0].dims[-1]
        self.logits = torch.zeros(n, classes, rows)
        self.z: dict[tuple[int, int], torch.Tensor] = {}
        self.a: dict[tuple[int, int], torch.Tensor] = {}
        self.out: dict[tuple[int, int], torch.Tensor] = {}
        self.dd: dict[tuple[int, int], torch.Tensor] = {}
        self.dz: dict[tuple[int, int], torch.Tensor] = {}
        for key, hidden in layout.hidden.items():
            shape = (len(hidden.members), rows, hidden.width)
            self.z[key], self.a[key] = torch.zeros(shape), torch.zeros(shape)
            drop = training and hidden.dropout
            self.out[key] = torch.zeros(shape) if drop else self.a[key]
            if training:
                self.dd[key], self.dz[key] = torch.zeros(shape), torch.zeros(shape)
        self.inputs: dict[int, torch.Tensor] = {}


class DenseTrainer:
    """Trains :class:`DenseNet` s together; see the module docstring.

    Args:
        nets: the networks.
        seeds: one seed per network (its minibatch order and dropout masks).
        config: learning rate, batch size, weight decay, gradient clipping.
        schedule: ``schedule(step, steps)`` scales the learning rate before each step (e.g.
            :func:`darwin_bench.training.cosine`), as in ``train_supervised``; ``None``:
            constant.
        threads: torch threads while training.
    """

    def __init__(
        self,
        nets: Sequence[DenseNet],
        seeds: Sequence[int],
        config: TrainConfig,
        *,
        schedule: Callable[[int, int], float] | None = None,
        threads: int = 1,
    ) -> None:
        if len(nets) != len(seeds):
            raise ValueError(f"need one seed per net; got {len(seeds)} seeds for {len(nets)}")
        self.schedule = schedule
        self.config, self.threads = config, int(threads)
        self.seeds = [int(s) for s in seeds]
        self.layout = Layout(nets)
        size = self.layout.size
        self.params, self.grads = torch.zeros(size), torch.zeros(size)
        self.exp_avg, self.exp_avg_sq = torch.zeros(size), torch.zeros(size)
        self.step_count = torch.zeros(())
        self.layout.bind(self.params, self.grads)
        self.groups = self.layout.all_groups()
        self.order_gens = [torch.Generator().manual_seed(s) for s in self.seeds]
        self.drop_gens = [
            torch.Generator().manual_seed(derive_seed(s, "dropout")) for s in self.seeds
        ]
        self.failed: dict[int, str] = {}

    # ------------------------------------------------------------------ passes
    def _forward(
        self,
        xb: torch.Tensor,
        bufs: _Buffers,
        masks: Mapping[tuple[int, int], torch.Tensor] | None = None,
    ) -> None:
        layout = self.layout
        for position, groups in enumerate(layout.groups):
            for g in groups:
                self._group_forward(g, position, xb, bufs)
            for key, hidden in layout.hidden.items():
                if key[0] != position:
                    continue
                z, a = bufs.z[key], bufs.a[key]
                for act, rows in hidden.runs:
                    activate(act, z[rows], a[rows])
                if masks is not None and hidden.dropout:
                    torch.mul(a, masks[key], out=bufs.out[key])

    def _group_forward(self, g: Group, position: int, xb: torch.Tensor, bufs: _Buffers) -> None:
        """The group's pre-activations (its inputs gathered, kept for the backward pass)."""
        x = xb[g.src] if position == 0 else _take(bufs.out[(position - 1, g.fin)], g.src)
        bufs.inputs[id(g)] = x
        with _output_threads(g):
            self._linear(g, x, bufs.logits if g.output else bufs.z[(position, g.fout)])

    @staticmethod
    def _linear(g: Group, x: torch.Tensor, out: torch.Tensor) -> None:
        if g.output:  # logits as (G, classes, batch): softmax over dim 1 is far faster
            torch.baddbmm(g.bias.transpose(1, 2), g.weight, x.transpose(1, 2), out=out[g.dst])
            return
        weight_t = g.weight.transpose(1, 2)
        if isinstance(g.dst, slice):
            torch.baddbmm(g.bias, x, weight_t, out=out[g.dst])
        else:
            out.index_copy_(0, g.dst, torch.baddbmm(g.bias, x, weight_t))

    def _backward(
        self,
        bufs: _Buffers,
        dlogits: torch.Tensor,
        masks: Mapping[tuple[int, int], torch.Tensor],
    ) -> None:
        layout = self.layout
        for position in reversed(range(layout.depth)):
            for key, hidden in layout.hidden.items():
                if key[0] != position:
                    continue
                da = bufs.dd[key]
                if hidden.dropout:
                    da.mul_(masks[key])
                for act, rows in hidden.runs:
                    activate_backward(
                        act, da[rows], bufs.z[key][rows], bufs.a[key][rows], bufs.dz[key][rows]
                    )
            for g in layout.groups[position]:
                dz = self._weight_grad(g, position, bufs, dlogits)
                torch.sum(dz, dim=1, keepdim=True, out=g.grad_bias)
                if g.mask is not None:
                    g.grad_weight.mul_(g.mask)
                if position > 0:
                    self._input_grad(g, position, bufs, dz)

    @staticmethod
    def _weight_grad(
        g: Group, position: int, bufs: _Buffers, dlogits: torch.Tensor
    ) -> torch.Tensor:
        """Write the group's weight gradient; return its output gradient ``(G, batch, out)``."""
        x = bufs.inputs[id(g)]
        if g.output:  # (G, classes, batch)
            with _output_threads(g):
                torch.bmm(dlogits[g.dst], x, out=g.grad_weight)
            return dlogits[g.dst].transpose(1, 2)
        dz = _take(bufs.dz[(position, g.fout)], g.dst)
        torch.bmm(dz.transpose(1, 2), x, out=g.grad_weight)
        return dz

    @staticmethod
    def _input_grad(g: Group, position: int, bufs: _Buffers, dz: torch.Tensor) -> None:
        """Write the gradient of the group's inputs into the previous position's buffer."""
        prev = bufs.dd[(position - 1, g.fin)]
        with _output_threads(g):
            if isinstance(g.src, slice):
                torch.bmm(dz, g.weight, out=prev[g.src])
            else:
                prev.index_copy_(0, g.src, torch.bmm(dz, g.weight))

    @torch.no_grad()
    def products(self, steps: int) -> None:
        """Run only the matrix products of ``steps`` training steps (forward, weight and input
        gradients, with the gathers they need) on this trainer's buffers, layout and kernels,
        in the calling thread settings: the floor of this program's time, for ``perf
        population``. The parameters are left alone (gradients and buffers are overwritten)."""
        rows = round_up(self.config.batch_size, ALIGN_ROWS)
        bufs = self._buffers(rows, training=True)
        layout = self.layout
        xb = torch.zeros(len(layout.nets), rows, layout.nets[0].dims[0])
        for _ in range(steps):
            for position, groups in enumerate(layout.groups):
                for g in groups:
                    self._group_forward(g, position, xb, bufs)
            for position in reversed(range(layout.depth)):
                for g in layout.groups[position]:
                    dz = self._weight_grad(g, position, bufs, bufs.logits)
                    if position > 0:
                        self._input_grad(g, position, bufs, dz)

    @staticmethod
    def _loss(
        logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor, count: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-network summed cross-entropy over the valid rows, and d(mean loss)/d(logits).

        ``logits`` are ``(N, classes, rows)``; ``labels`` ``(N, rows)``.
        """
        logp = torch.log_softmax(logits, dim=1)
        index = labels.unsqueeze(1)
        losses = -(logp.gather(1, index).squeeze(1) * valid).sum(1)
        grad = logp.exp_()
        grad.scatter_add_(1, index, torch.full((1, 1, 1), -1.0).expand(index.shape))
        grad.mul_((valid / count).view(1, 1, -1))
        return losses, grad

    def _clip(self) -> None:
        """Scale each network's gradient to a global norm of at most ``grad_clip``."""
        norms = torch.zeros(len(self.layout.nets))
        for g in self.groups:
            squares = g.grad_weight.square().sum((1, 2)) + g.grad_bias.square().sum((1, 2))
            norms.index_add_(0, g.members_index, squares)
        coef = (self.config.grad_clip / (norms.sqrt() + 1e-6)).clamp(max=1.0)
        for g in self.groups:
            scale = coef.index_select(0, g.members_index).view(-1, 1, 1)
            g.grad_weight.mul_(scale)
            g.grad_bias.mul_(scale)

    def _update(self, lr: float) -> None:
        if self.config.grad_clip > 0:
            self._clip()
        self.step_count += 1
        torch._fused_adamw_(
            [self.params],
            [self.grads],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.step_count],
            lr=lr,
            beta1=0.9,
            beta2=0.999,
            weight_decay=self.config.weight_decay,
            eps=1e-8,
            amsgrad=False,
            maximize=False,
        )

    # ------------------------------------------------------------------ epochs
    def _epoch_masks(self, steps: int, rows: int) -> dict[tuple[int, int], torch.Tensor]:
        """Every hidden buffer's dropout masks for one epoch, ``(R, steps, rows, width)``.

        Each network draws its own masks from its generator, layer by layer: 16-bit uniform
        integers (four per 64-bit draw, a quarter of the cost of float draws), kept when below
        ``round((1 - rate) * 2**16)``; kept units are scaled by ``2**16 / threshold``, the
        inverse of the keep probability actually used (so the rate's resolution is ``2**-16``).
        """
        masks: dict[tuple[int, int], torch.Tensor] = {}
        for key in sorted(self.layout.hidden):
            hidden = self.layout.hidden[key]
            if not hidden.dropout:
                continue
            mask = torch.empty(len(hidden.members), steps, rows, hidden.width)
            count = steps * rows * hidden.width
            for r, (i, rate) in enumerate(zip(hidden.members, hidden.rates)):
                if rate == 0:
                    mask[r].fill_(1.0)
                    continue
                threshold = min(max(round((1.0 - rate) * 2**16), 1), 2**16 - 1)
                bits = torch.empty(-(-count // 4), dtype=torch.int64)
                bits.random_(-(2**63), None, generator=self.drop_gens[i])
                draws = bits.view(torch.int16)[:count].view(steps, rows, hidden.width)
                torch.mul(draws < threshold - 2**15, 2**16 / threshold, out=mask[r])
            masks[key] = mask
        return masks

    def _epoch_order(self, n: int, steps: int, rows: int) -> torch.Tensor:
        """``(N, steps, rows)`` example indices of each network's minibatches (padding: ``n``)."""
        size = self.config.batch_size
        order = torch.full((len(self.layout.nets), steps, rows), n, dtype=torch.long)
        padded = torch.full((steps * size,), n, dtype=torch.long)
        for i, generator in enumerate(self.order_gens):
            padded[:n] = torch.randperm(n, generator=generator)
            order[i, :, :size] = padded.view(steps, size)
        return order

    def train_epoch(
        self, x: torch.Tensor, y: torch.Tensor, epoch: int, total_steps: int
    ) -> torch.Tensor:
        """One epoch over ``(x, y)``; returns each network's summed training loss."""
        n, size = x.shape[0], self.config.batch_size
        steps = math.ceil(n / size)
        rows = round_up(size, ALIGN_ROWS)
        bufs = self._buffers(rows, training=True)
        x_ext = torch.cat([x, x.new_zeros(1, x.shape[1])])
        y_ext = torch.cat([y, y.new_zeros(1)])
        order = self._epoch_order(n, steps, rows)
        input_order = order[self.layout.input_order]
        logit_order = order[self.layout.logit_order]
        masks = self._epoch_masks(steps, rows)
        totals = torch.zeros(len(self.layout.nets), dtype=torch.float64)
        for s in range(steps):
            count = min(size, n - s * size)
            valid = (torch.arange(rows) < count).to(torch.float32)
            step_masks = {k: m[:, s] for k, m in masks.items()}
            self._forward(x_ext[input_order[:, s]], bufs, step_masks)
            losses, dlogits = self._loss(bufs.logits, y_ext[logit_order[:, s]], valid, count)
            self._check(losses / count, epoch)
            totals[self.layout.logit_order] += losses.double()
            self._backward(bufs, dlogits, step_masks)
            lr = self.config.lr
            if self.schedule is not None:
                lr = lr * self.schedule(epoch * steps + s, total_steps)
            self._update(lr)
        return totals

    def _check(self, mean_losses: torch.Tensor, epoch: int) -> None:
        """Record networks whose loss just became non-finite (in logit order)."""
        if bool(torch.isfinite(mean_losses).all()):
            return
        for k in torch.nonzero(~torch.isfinite(mean_losses)).flatten().tolist():
            i = self.layout.logit_order[k]
            self.failed.setdefault(i, f"loss became {float(mean_losses[k])} in epoch {epoch + 1}")

    def _buffers(self, rows: int, training: bool) -> _Buffers:
        cache = self.__dict__.setdefault("_buffer_cache", {})
        if (rows, training) not in cache:
            cache[(rows, training)] = _Buffers(self.layout, rows, training)
        return cache[(rows, training)]

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each network's accuracy and mean cross-entropy on ``(x, y)`` (network order)."""
        n = x.shape[0]
        correct = torch.zeros(len(self.layout.nets))
        loss = torch.zeros(len(self.layout.nets))
        rows = min(EVAL_CHUNK, round_up(n, ALIGN_ROWS))
        bufs = self._buffers(rows, training=False)
        for start in range(0, n, rows):
            xs, ys = x[start : start + rows], y[start : start + rows]
            count = xs.shape[0]
            xs = torch.cat([xs, xs.new_zeros(rows - count, xs.shape[1])])
            ys = torch.cat([ys, ys.new_zeros(rows - count)])
            self._forward(xs.expand(len(self.layout.nets), -1, -1), bufs)
            valid = (torch.arange(rows) < count).to(torch.float32)
            logp = torch.log_softmax(bufs.logits, dim=1)
            hits = (logp.argmax(1) == ys).to(torch.float32) * valid
            nll = -(logp.gather(1, ys.expand(len(self.layout.nets), -1).unsqueeze(1)).squeeze(1))
            correct[self.layout.logit_order] += hits.sum(1)
            loss[self.layout.logit_order] += (nll * valid).sum(1)
        return correct / n, loss / n

    def weights(self, i: int) -> list[LayerWeights]:
        """Network ``i``'s current ``(weight, bias)`` per layer (copies)."""
        out = []
        for position in range(self.layout.nets[i].depth):
            g = next(g for g in self.layout.groups[position] if i in g.members)
            k = g.members.index(i)
            out.append((g.weight[k].clone(), g.bias[k, 0].clone()))
        return out
