"""Bad input, tried option by option: every case exits 2 with one line that names the option
(or the field inside a JSON option), never a traceback.

The catalogue below is the list docs/reliability.md counts. The fast suite tries each bad
value on the first command that has the option; the slow test tries it on every command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darwin_bench.cli import build_parser, main

MLP = "darwin_bench/Digits-MLP-v0"
GENOME = "1,2,0,3,1,0,0,0,0,1"
FAST = ["--env-kwargs", '{"measure_latency": false, "epochs": 1}']

#: Commands in a valid form, with small budgets (``{out}``: a fresh folder per case).
COMMANDS: dict[str, list[str]] = {
    "evaluate": ["evaluate", "--env", MLP, "--genome", GENOME, "--json", *FAST],
    "run": ["run", "--agent", "random", "--env", MLP, "--budget", "1", "--out", "{out}",
            "--no-progress", *FAST],
    "compare": ["compare", "--agents", "random", "--env", MLP, "--seeds", "1", "--budget", "1",
                "--out", "{out}", "--no-progress", *FAST],
    "bench-task": ["bench-task", "--env", MLP, "--genome", GENOME, "--repeats", "1", "--json",
                   *FAST],
    "devices": ["devices", "--json"],
    "list": ["list", "--json"],
    "reproduce": ["reproduce", "darwin", "--out", "{out}", "--options", '{"nope": 1}'],
    "perf model": ["perf", "model", "--json"],
    "reliability crash": ["reliability", "crash", "--kills", "1", "--agents", "nope"],
}  # fmt: skip

BAD_INTS = ["0", "-1", "x", "", "1.5", "1e3", "-99999999999999999999999"]
#: option -> [(bad value, what the error line must contain)]; a "*" fragment: the option.
BAD: dict[str, list[tuple[str, str]]] = {
    "--env": [("", "env"), ("nope", "env"), ("darwin_bench/Nope-v0", "env"),
              ("nope.py:X", "--env"), ("{afile}:X", "--env"), ("os:X", "env")],
    "--genome": [("", "genome"), ("1,,2", "genome"), ("1.5,2", "genome"), ("x", "genome"),
                 ("-1,2,0,3,1,0,0,0,0,1", "genome"), ("9" * 30 + ",0,0,0,0,0,0,0,0,0", "genome"),
                 ("1,2", "genome must be a flat sequence of 10")],
    "--seed": [(v, "--seed") for v in [*BAD_INTS[1:], str(2**32), str(2**64)]],
    "--budget": [(v, "--budget") for v in BAD_INTS if v != "1e3"] + [("nan", "--budget")],
    "--seeds": [(v, "--seeds") for v in BAD_INTS],
    "--repeats": [(v, "--repeats") for v in BAD_INTS],
    "--top": [(v, "--top") for v in BAD_INTS],
    "--epochs": [(v, "--epochs") for v in BAD_INTS] + [("3", "disagree")],
    "--kills": [(v, "--kills") for v in BAD_INTS],
    "--target": [(v, "--target") for v in ("nan", "inf", "-1", "0", "x", "1e999")],
    "--reward": [("", "reward"), ("nope", "reward"), ("\x00", "reward")],
    "--cost": [("", "cost"), ("nope", "cost"), ("latency_ms@nope", "nope"),
               ("flops@raspberry-pi-4", "flops")],
    "--agent": [("", "agent"), ("nope", "agent")],
    "--agents": [("", "agent"), ("random,random", "agents"), ("random,nope", "agent"),
                 (",", "agent")],
    "--out": [("{afile}", "--out"), ("{afile}/sub", "--out"), ("", "--out")],
    "--profile": [("{afile}", "--profile"), ("{afile}/sub", "--profile"),
                  ("/nonexistent/x.json", "--profile"), ("{tmp}", "--profile"),
                  ("{badjson}", "--profile"), ("{listjson}", "--profile")],
    "--plugin": [("{afile}", "--plugin"), ("", "--plugin"), ("nope_mod", "--plugin"),
                 ("/nonexistent/x.py", "--plugin"), ("{buggy}", "--plugin"),
                 ("{syntax}", "--plugin")],
    "--env-kwargs": [
        ("[1]", "--env-kwargs"), ("{", "--env-kwargs"), ("null", "--env-kwargs"),
        ('"s"', "--env-kwargs"), ("[" * 5000 + "]" * 5000, "--env-kwargs"),
        ('{"a": 1}', "unknown env kwarg(s) ['a']"),
        ('{"budget": 3}', "leave out 'budget'"),
        ('{"latency_repeats": "x"}', "'latency_repeats' must be int"),
        ('{"space_kwargs": {"widths": [1]}}', "space_kwargs"),
        ('{"space_kwargs": {"max_layers": "3"}}', "space_kwargs"),
        ('{"space_kwargs": 3}', "space_kwargs"),
        ('{"space_kwargs": {"max_layers": 0}}', "space_kwargs"),
        ('{"task_kwargs": {"nope": 1}}', "task_kwargs"),
        ('{"task_kwargs": [1]}', "task_kwargs"),
        ('{"task_kwargs": {"image": "yes"}}', "task_kwargs"),
        ('{"task_kwargs": {"epochs": 0}}', "task_kwargs"),
        ('{"reward_kwargs": {"weight": "x"}}', "reward_kwargs"),
        ('{"reward_kwargs": {"nope": 1}}', "reward_kwargs"),
        ('{"reward_kwargs": 5}', "reward_kwargs"),
        ('{"fidelity": {"epochs": -1}}', "epochs"),
        ('{"fidelity": {"nope": 1}}', "fidelity"),
        ('{"fidelity": [1]}', "fidelity"),
        ('{"cache_path": "{afile}/x.db"}', "cache_path"),
        ('{"cache_path": "{badjson}"}', "cache_path"),
        ('{"cache_path": 5}', "cache_path"),
        ('{"workers": 0}', "workers"), ('{"workers": "2"}', "workers"),
        ('{"target": -1}', "target"), ('{"target": "x"}', "target"),
        ('{"costs": "flops"}', "costs"), ('{"costs": ["nope"]}', "cost"),
        ('{"costs": [1]}', "costs"), ('{"targets": {"x": 1}}', "targets"),
        ('{"targets": 5}', "targets"), ('{"latency_repeats": 0}', "latency_repeats"),
        ('{"epochs": 1.5}', "epochs"), ('{"measure_latency": "no"}', "measure_latency"),
        ('{"task": "nope"}', "task"), ('{"task": 5}', "task"), ('{"space": "nope"}', "space"),
        ('{"space": ["mlp"]}', "space"), ('{"reward": 5}', "reward"), ('{"cost": 5}', "cost"),
        ('{"score_range": [1, 0]}', "score_range"), ('{"score_range": "0,1"}', "score_range"),
        ('{"max_params": 0}', "max_params"), ('{"max_params": 10}', "max_params"),
        ('{"max_activation_mb": -1}', "max_activation_mb"),
        ('{"time_limit": 0}', "time_limit"), ('{"time_limit": "1"}', "time_limit"),
        ('{"worker_retries": -1}', "worker_retries"),
    ],
    "--agent-config": [("[1]", "--agent-config"), ("{", "--agent-config"),
                       ('{"nope": 1}', "--agent-config"), ('{"random": 5}', "--agent-config")],
    "--options": [("[1]", "--options"), ("{", "--options"), ('{"nope": 1}', "options")],
    "--prune": [("x", "prune"), ("unstructured:2", "prune"), ("clusters:x", "prune")],
}  # fmt: skip


def cases(every_command: bool) -> list[tuple[str, str, str, str]]:
    """(command, option, bad value, fragment) for each bad value of each option."""
    parser = build_parser()
    out = []
    for option, values in BAD.items():
        commands = [c for c, argv in COMMANDS.items() if option in _options(parser, argv)]
        assert commands, f"no command takes {option}"
        for value, fragment in values:
            for command in commands if every_command else commands[:1]:
                out.append((command, option, value, fragment))
    return out


def _options(parser, argv: list[str]) -> set[str]:
    sub = parser._subparsers._group_actions[0].choices[argv[0]]
    if sub._subparsers is not None:
        sub = sub._subparsers._group_actions[0].choices[argv[1]]
    return {o for action in sub._actions for o in action.option_strings}


def check(tmp_path: Path, command: str, option: str, value: str, fragment: str, capsys) -> None:
    files = {
        "afile": tmp_path / "afile",
        "badjson": tmp_path / "bad.json",
        "listjson": tmp_path / "list.json",
        "buggy": tmp_path / "buggy.py",
        "syntax": tmp_path / "syntax.py",
        "tmp": tmp_path,
        "out": tmp_path / "out",
    }
    files["afile"].write_text("not a folder\n")
    files["badjson"].write_text("{bad\n")
    files["listjson"].write_text("[1, 2]\n")
    files["buggy"].write_text("x = 1\nraise RuntimeError('boom')\n")
    files["syntax"].write_text("def f(:\n")
    names = {k: str(v) for k, v in files.items()}
    argv = [a.replace("{out}", names["out"]) for a in COMMANDS[command]]
    value = value.replace("{", "\x01").replace("\x01" + "afile}", names["afile"])
    for key, path in names.items():
        value = value.replace("\x01" + key + "}", json.dumps(path)[1:-1])
    value = value.replace("\x01", "{")
    if option in argv:
        i = argv.index(option)
        argv[i + 1] = value
    else:
        argv += [option, value]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    lines = err.splitlines()
    assert code == 2, f"{argv}: exit {code}, stderr {err!r}"
    assert len(lines) == 1 and "Traceback" not in err, f"{argv}: {err!r}"
    assert fragment in lines[0], f"{argv}: {lines[0]!r} does not name {fragment!r}"


@pytest.mark.parametrize("command, option, value, fragment", cases(every_command=False))
def test_bad_value(tmp_path, command, option, value, fragment, capsys) -> None:
    check(tmp_path, command, option, value, fragment, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("command, option, value, fragment", cases(every_command=True))
def test_bad_value_on_every_command(tmp_path, command, option, value, fragment, capsys) -> None:
    check(tmp_path, command, option, value, fragment, capsys)


def test_catalogue_size() -> None:
    """The counts docs/reliability.md reports."""
    assert len(cases(every_command=False)) == sum(len(v) for v in BAD.values())
    assert len(cases(every_command=True)) >= 2 * len(cases(every_command=False))
