"""stable-baselines3 helpers for darwin_bench envs: stop ``learn()`` when the budget is spent;
train without SB3's log folders.

A darwin_bench env never crashes an SB3 loop at the end of its budget: it truncates the episodes
that would need another evaluation and says so in ``info["budget_exhausted"]`` (docs/envs.md,
"After the budget"). So ``model.learn(total_timesteps)`` always finishes, but once the budget is
spent the remaining timesteps teach the policy nothing. :class:`StopTrainingOnBudget` ends
``learn()`` right after the step that spends the last evaluation::

    import gymnasium as gym
    import darwin_bench
    from darwin_bench.sb3 import StopTrainingOnBudget
    from sb3_contrib import MaskablePPO

    env = gym.make("darwin_bench/Digits-MLP-Builder-v0", budget=12)
    model = MaskablePPO("MlpPolicy", env)
    model.learn(10_000, callback=StopTrainingOnBudget())  # stops after the 12th network

A builder env keeps its run (and spent budget) across ``reset()``; only ``reset(seed=...)``
starts a new one. To search again with the same model: ``model.get_env().seed(new_seed)``, then
``model.learn(...)`` (SB3 resets its env with that seed when ``learn`` starts).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger


class StopTrainingOnBudget(BaseCallback):
    """Stop training when every training env has spent its evaluation budget.

    Works on any SB3 vector env of darwin_bench envs (builder or proposal, wrapped or not).
    An env counts as spent from the step whose ``info["budget_exhausted"]`` is True; on a
    proposal env, whose ``reset()`` starts a new run, that is the end of its first run. The step
    that spends the last evaluation is kept in the rollout buffer, but the partial rollout is not
    trained on (SB3's rule for a callback that stops collection).

    Args:
        verbose: 1 prints one line when training stops.

    Raises:
        ValueError: at the start of ``learn()`` when a training env is not a darwin_bench env
            (it has no ``budget_left``).
    """

    def __init__(self, verbose: int = 0) -> None:
        super().__init__(verbose)
        self._spent = np.zeros(0, dtype=bool)

    def _init_callback(self) -> None:
        assert self.training_env is not None
        try:
            left = self.training_env.get_attr("budget_left")
        except AttributeError:
            raise ValueError(
                "StopTrainingOnBudget needs darwin_bench envs (with a budget_left helper); "
                f"the training env {self.training_env!r} has none"
            ) from None
        self._spent = np.array([b <= 0 for b in left], dtype=bool)

    def _on_step(self) -> bool:
        infos: list[dict[str, Any]] = self.locals.get("infos", [])
        for i, info in enumerate(infos):
            if info.get("budget_exhausted"):
                self._spent[i] = True  # latched: a proposal env's reset starts another run
        if self._spent.all():
            if self.verbose >= 1:
                print(
                    f"StopTrainingOnBudget: every env's budget is spent after "
                    f"{self.num_timesteps} timesteps; training stops"
                )
            return False
        return True


def silence_logger(model: BaseAlgorithm) -> BaseAlgorithm:
    """Give ``model`` a logger that writes nothing, and return it.

    Without one, every ``learn()`` (even at ``verbose=0``) makes an empty folder
    ``$TMPDIR/SB3-<date and time>`` through ``stable_baselines3.common.logger.configure``: one per
    PPO-trained network or PPO search, thousands over a benchmark. The model's metrics are still
    recorded in memory (``model.logger.name_to_value``) during a rollout.
    """
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model
