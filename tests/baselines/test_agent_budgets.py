"""Every built-in agent runs under every budget kind and stops exactly where the env says."""

from __future__ import annotations

from pathlib import Path

import pytest

from baselines import AGENTS
from baselines.runner import run_agent
from envs.registration import get_entry

#: An env of each form the agents work on, with fast settings.
ENVS = {
    "proposal": "darwin_bench/Digits-MLP-v0",
    "builder": "darwin_bench/Digits-MLP-Builder-v0",
    "synapses": "darwin_bench/Digits-Synapses-v0",
}
#: Small budgets of each kind: a few evaluations each. (Evolutionary synthesis shrinks its
#: networks fast, and smaller networks cost fewer FLOPs: 1.5e9 FLOPs buy it thousands.)
BUDGETS = {"evaluations": 5, "train_flops": 1.5e9, "seconds": 0.4}
SMALLER = {("evo-synthesis", "train_flops"): 2.5e8}


@pytest.mark.parametrize("kind", list(BUDGETS))
@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_agent_spends_the_budget_of_every_kind(agent: str, kind: str, tmp_path: Path) -> None:
    form = AGENTS[agent].forms[0]
    env_id = ENVS[form]
    kwargs = {
        **get_entry(env_id).test_kwargs,
        "measure_latency": False,
        "budget_kind": kind,
    }
    kwargs.setdefault("epochs", 2)
    budget = SMALLER.get((agent, kind), BUDGETS[kind])
    record = run_agent(
        agent, env_id, budget=budget, seed=0, out_dir=tmp_path, env_kwargs=kwargs
    ).record
    assert record.complete and record.header["budget_kind"] == kind
    assert record.header["reproducible"] is (kind != "seconds")
    spent = [e.spent for e in record.evaluations]
    assert all(s is not None and s > 0 for s in spent)
    assert record.footer is not None and record.footer["budget_used"] == pytest.approx(sum(spent))
    # The run ends on the evaluation that reaches the budget (an env raises on a step after
    # that, so a finished run also proves the agent stopped on the truncation signal). A
    # population of unpriced (measured-seconds) evaluations may overshoot by more than one.
    assert sum(spent) >= budget
    if not (kind == "seconds" and agent == "ga"):
        assert sum(spent[:-1]) < budget
    if kind == "evaluations":
        assert len(spent) == budget
