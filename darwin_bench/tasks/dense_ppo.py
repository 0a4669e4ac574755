"""The vector PPO's fast path: dense policies with ``Discrete`` actions, gradients by hand.

For a policy that is a chain of dense layers (optionally with dropout) acting on a ``Discrete``
action space, :class:`DenseActorCritic` keeps the actor's and the critic's weights in one flat
tensor and computes PPO's loss gradient with hand-written backward passes (the few matrix
products of the chain rule), then clips the global gradient norm and takes an Adam step on the
flat tensor: about 60 small tensor operations per minibatch instead of autograd's graph and a
per-parameter optimizer. The algorithm is the one of :mod:`darwin_bench.tasks.vector_ppo`
(stable-baselines3's PPO): same loss, same clipping, same Adam (``eps=1e-5``), so only
floating-point rounding differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from darwin_bench.architecture import Architecture
from darwin_bench.tasks.base import TrainingDiverged
from darwin_bench.tasks.ppo_config import PPOConfig

#: Activations with a hand-written derivative.
ACTIVATIONS = {None, "tanh", "relu", "elu", "gelu", "sigmoid"}


@dataclass(frozen=True)
class _Dense:
    """One dense layer: views into the flat parameters and gradients (weights (out, in), as
    ``nn.Linear`` stores them)."""

    weight: torch.Tensor
    bias: torch.Tensor
    weight_t: torch.Tensor  # weight.t(), a view
    grad_weight: torch.Tensor
    grad_bias: torch.Tensor
    activation: str | None
    dropout: float  # rate of the dropout layer that follows, 0 for none


def dense_chain(architecture: Architecture) -> list[tuple[int, str | None, float]] | None:
    """``(units, activation, dropout)`` per dense layer when ``architecture`` is a chain of
    dense layers (each optionally followed by one dropout layer) with supported activations;
    None otherwise."""
    chain: list[tuple[int, str | None, float]] = []
    if len(architecture.input_shape) != 1:
        return None
    for layer in architecture.layers:
        if layer.get("type") == "dense" and layer.get("activation") in ACTIVATIONS:
            chain.append((int(layer["units"]), layer.get("activation"), 0.0))
        elif layer.get("type") == "dropout" and chain and chain[-1][2] == 0.0:
            units, act, _ = chain[-1]
            chain[-1] = (units, act, float(layer["rate"]))
        else:
            return None
    return chain or None


def _through_activation(
    kind: str | None, grad: torch.Tensor, pre: torch.Tensor, post: torch.Tensor
) -> torch.Tensor:
    """The gradient w.r.t. the pre-activation, from the one w.r.t. the activation's output
    (ATen's fused backward kernels, the ones autograd calls)."""
    aten = torch.ops.aten
    if kind is None:
        return grad
    if kind == "tanh":
        return aten.tanh_backward(grad, post)
    if kind == "relu":
        return aten.threshold_backward(grad, post, 0)
    if kind == "sigmoid":
        return aten.sigmoid_backward(grad, post)
    if kind == "elu":
        return aten.elu_backward(grad, 1.0, 1.0, 1.0, True, post)
    return aten.gelu_backward(grad, pre)


_FORWARD = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "elu": nn.functional.elu,
    "gelu": nn.functional.gelu,
    "sigmoid": torch.sigmoid,
}


class DenseActorCritic:
    """Actor and critic MLPs in one flat parameter tensor, trained with hand-written gradients.

    Built from the initialised ``actor`` and ``critic`` modules (``build_model`` of the
    architecture and of its one-output copy); :meth:`export` writes the trained weights back.
    """

    def __init__(
        self,
        actor: nn.Module,
        critic: nn.Module,
        chain: list[tuple[int, str | None, float]],
        config: PPOConfig,
    ) -> None:
        self.actor_module = actor
        linears = [
            [m for m in net.modules() if isinstance(m, nn.Linear)] for net in (actor, critic)
        ]
        total = sum(m.weight.numel() + m.bias.numel() for net in linears for m in net)
        self.params, self.grad = torch.empty(total), torch.zeros(total)
        self.exp_avg, self.exp_avg_sq = torch.zeros(total), torch.zeros(total)
        self.nets: list[list[_Dense]] = [[], []]
        at = 0
        for net, layers in zip(linears, self.nets):
            for linear, (_, activation, dropout) in zip(net, chain):
                w, b = linear.weight.numel(), linear.bias.numel()
                shape = linear.weight.shape
                weight = self.params[at : at + w].view(shape)
                weight.copy_(linear.weight.detach())
                bias = self.params[at + w : at + w + b]
                bias.copy_(linear.bias.detach())
                grads = self.grad[at : at + w].view(shape), self.grad[at + w : at + w + b]
                layers.append(_Dense(weight, bias, weight.t(), *grads, activation, dropout))
                at += w + b
        self.steps = 0
        self.config = config

    # ------------------------------------------------------------------ forward
    @staticmethod
    def _forward(
        net: list[_Dense], x: torch.Tensor, train: bool
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, ...]]]:
        """Output and, per layer, (input, pre-activation, post-activation, dropout mask)."""
        cache: list[tuple[torch.Tensor, ...]] = []
        for layer in net:
            pre = torch.addmm(layer.bias, x, layer.weight_t)
            post = pre if layer.activation is None else _FORWARD[layer.activation](pre)
            out = mask = post
            if train and layer.dropout > 0:
                keep = 1.0 - layer.dropout
                mask = torch.empty_like(post).bernoulli_(keep).div_(keep)
                out = post * mask
            cache.append((x, pre, post, mask))
            x = out
        return x, cache

    def act(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sampled actions, their log-probabilities and the values of a batch (no dropout)."""
        logits, _ = self._forward(self.nets[0], obs, train=False)
        log_probs = torch.log_softmax(logits, dim=1)
        action = torch.multinomial(log_probs.exp(), 1)
        value, _ = self._forward(self.nets[1], obs, train=False)
        return action.squeeze(1), log_probs.gather(1, action).squeeze(1), value.squeeze(1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """Values of a batch (no dropout)."""
        return self._forward(self.nets[1], obs, train=False)[0].squeeze(1)

    # ----------------------------------------------------------------- backward
    @staticmethod
    def _backward(
        net: list[_Dense], grad_out: torch.Tensor, cache: list[tuple[torch.Tensor, ...]]
    ) -> None:
        """Write the layers' weight and bias gradients for ``grad_out`` (d loss / d output)."""
        g = grad_out
        for i in range(len(net) - 1, -1, -1):
            layer, (x, pre, post, mask) = net[i], cache[i]
            if layer.dropout > 0:
                g = g * mask
            g = _through_activation(layer.activation, g, pre, post)
            torch.mm(g.t(), x, out=layer.grad_weight)
            torch.sum(g, dim=0, out=layer.grad_bias)
            if i:
                g = g @ layer.weight

    def step(
        self,
        obs: torch.Tensor,
        act: torch.Tensor,
        old_logp: torch.Tensor,
        adv: torch.Tensor,
        ret: torch.Tensor,
        clip: float,
        lr: float,
    ) -> None:
        """One PPO minibatch step: loss gradient by hand, global norm clipping, Adam.

        Raises:
            TrainingDiverged: when the gradient is NaN or infinite (as it is when the loss is;
                the loss value itself is never needed, so it is not computed).
        """
        config, n = self.config, obs.shape[0]
        logits, actor_cache = self._forward(self.nets[0], obs, train=True)
        values, critic_cache = self._forward(self.nets[1], obs, train=True)
        log_probs = torch.log_softmax(logits, dim=1)
        logp = log_probs.gather(1, act[:, None]).squeeze(1)
        ratio = torch.exp(logp - old_logp)
        surr1, surr2 = adv * ratio, adv * ratio.clamp(1 - clip, 1 + clip)
        error = values.squeeze(1) - ret
        probs = log_probs.exp()
        # d(-mean(min(surr1, surr2)))/d logp: surr1's gradient where it is the smaller (or the
        # clamp passes the gradient, the tie case); d logp / d logits = onehot(act) - probs.
        dlogp = torch.where(surr1 <= surr2, surr1, 0.0).mul_(-1.0 / n)
        dlogits = probs.neg().scatter_add_(1, act[:, None], torch.ones(n, 1)).mul_(dlogp[:, None])
        if config.ent_coef:
            entropy = -(probs * log_probs).sum(1)
            dlogits.add_(probs * (log_probs + entropy[:, None]), alpha=config.ent_coef / n)
        self._backward(self.nets[0], dlogits, actor_cache)
        self._backward(self.nets[1], error.mul(2.0 * config.vf_coef / n)[:, None], critic_cache)
        self._clip_and_adam(lr)

    def _clip_and_adam(self, lr: float) -> None:
        """``clip_grad_norm_`` then one ``torch.optim.Adam`` step (betas 0.9, 0.999, eps 1e-5).

        Raises:
            TrainingDiverged: for a NaN or infinite gradient norm.
        """
        grad = self.grad
        norm = torch.linalg.vector_norm(grad)
        if not math.isfinite(float(norm)):
            raise TrainingDiverged(f"PPO gradient became {float(norm)}")
        grad.mul_(torch.clamp(self.config.max_grad_norm / (norm + 1e-6), max=1.0))
        self.steps += 1
        beta1, beta2 = 0.9, 0.999
        self.exp_avg.lerp_(grad, 1.0 - beta1)
        self.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        step_size = lr / (1.0 - beta1**self.steps)
        denom = self.exp_avg_sq.sqrt().div_(math.sqrt(1.0 - beta2**self.steps)).add_(1e-5)
        self.params.addcdiv_(self.exp_avg, denom, value=-step_size)

    def export(self) -> nn.Module:
        """The actor module with the trained weights (eval mode)."""
        linears = [m for m in self.actor_module.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for linear, layer in zip(linears, self.nets[0]):
                linear.weight.copy_(layer.weight)
                linear.bias.copy_(layer.bias)
        return self.actor_module.eval()
