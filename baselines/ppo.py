"""A PPO controller that builds networks gene by gene (Zoph & Le 2017, with PPO as in their 2018
follow-up), trained by stable-baselines3 on the builder env.

Each episode of the builder env chooses the genes of one network in order; the last step
trains and costs it and returns its reward, so an episode is one evaluation. The controller is
sb3-contrib's ``MaskablePPO``, which reads the env's ``action_masks()`` and never picks an
invalid choice (``use_masks=False`` trains plain ``PPO`` instead; the env then repairs invalid
choices itself).

Budget: an episode has exactly ``len(space.genes)`` steps, so a budget of ``B`` evaluations
needs ``B * len(genes)`` timesteps (under ``train_flops`` or ``seconds`` the count is
unknown). PPO collects rollouts of ``n_steps`` timesteps, which would overrun the last
evaluation; ``darwin_bench.sb3.StopTrainingOnBudget`` stops training as soon as the env's
budget is spent, so the run ends exactly at the budget (a partial last rollout is not trained
on).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from baselines.base import Agent, AgentConfig, EnvFactory
from darwin_bench.validation import check_positive_float, check_positive_int
from envs.helpers import helpers


@dataclass
class PPOControllerConfig(AgentConfig):
    """Settings of the PPO controller (stable-baselines3 names and meanings).

    Attributes:
        learning_rate: Adam step size.
        n_steps: timesteps (genes) per rollout; with 10 genes, 64 steps is ~6 networks.
        batch_size: minibatch size of each gradient step.
        n_epochs: passes over each rollout.
        gamma: discount; 1.0 because the only reward is the network's, at the episode's end.
        gae_lambda: GAE smoothing.
        ent_coef: entropy bonus, keeps the controller exploring.
        clip_range: PPO's policy clip.
        net_arch: hidden layers of the policy and value networks.
        use_masks: use ``MaskablePPO`` with the env's action masks (else plain ``PPO``).
    """

    learning_rate: float = 3e-4
    n_steps: int = 64
    batch_size: int = 32
    n_epochs: int = 4
    gamma: float = 1.0
    gae_lambda: float = 0.95
    ent_coef: float = 0.01
    clip_range: float = 0.2
    net_arch: list[int] = field(default_factory=lambda: [64, 64])
    use_masks: bool = True

    def __post_init__(self) -> None:
        check_positive_float("learning_rate", self.learning_rate)
        if check_positive_int("n_steps", self.n_steps) < 2:
            raise ValueError(f"n_steps must be at least 2; got {self.n_steps}")
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("n_epochs", self.n_epochs)
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1]; got {self.gamma}")
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gae_lambda must be in [0, 1]; got {self.gae_lambda}")
        if self.ent_coef < 0:
            raise ValueError(f"ent_coef must be >= 0; got {self.ent_coef}")
        check_positive_float("clip_range", self.clip_range)
        self.net_arch = [check_positive_int("net_arch", w) for w in self.net_arch]


class PPOController(Agent[PPOControllerConfig]):
    """PPO on the builder env: a policy over genes, trained on the networks' rewards."""

    name = "ppo"
    config_class = PPOControllerConfig
    forms = ("builder",)

    def run(self, envs: EnvFactory, seed: int) -> None:
        from sb3_contrib import MaskablePPO
        from stable_baselines3 import PPO

        from darwin_bench.sb3 import StopTrainingOnBudget, silence_logger

        config = self.config
        env = envs.make()
        builder = helpers(env, "builder")
        genes = len(builder.search_space.genes)
        algorithm = MaskablePPO if config.use_masks else PPO
        model = algorithm(
            "MlpPolicy",
            env,
            learning_rate=config.learning_rate,
            n_steps=config.n_steps,
            batch_size=config.batch_size,
            n_epochs=config.n_epochs,
            gamma=config.gamma,
            gae_lambda=config.gae_lambda,
            ent_coef=config.ent_coef,
            clip_range=config.clip_range,
            policy_kwargs={"net_arch": list(config.net_arch)},
            seed=seed,  # SB3 resets the env with this seed: it starts the run
            device="cpu",
            verbose=0,
        )
        # A fresh env has not spent anything: under an evaluations budget, budget_left is the
        # number of networks. Under other kinds that number is unknown; the callback stops
        # learning when the budget is spent, long before this bound.
        evaluations = (
            int(builder.budget_left) if builder.budget_kind == "evaluations" else 2**40 // genes
        )
        silence_logger(model)  # else every learn() makes an SB3-<date> folder in $TMPDIR
        model.learn(total_timesteps=evaluations * genes, callback=StopTrainingOnBudget())
        env.close()
