"""The run-log reader refuses malformed, truncated, huge and wrongly typed input with a clear
error (a ``ValueError`` naming the file and line), and reads a killed run's log (a torn last
line) as the prefix it is. Property-based: hypothesis generates logs and damages them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from darwin_bench.evaluation import Evaluation
from darwin_bench.runlog import RunLog, read_runlog

# Examples per property: hypothesis's profile (tests/conftest.py: 100 by default, 2,000 with
# HYPOTHESIS_PROFILE=thorough).
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

metrics = st.dictionaries(st.sampled_from(["accuracy", "val_loss"]), st.floats(0, 1), max_size=2)
evaluations = st.builds(
    lambda i, m, cost, ok: Evaluation(
        evaluation_id=f"{i:032x}",
        architecture={"space": "mlp", "layers": [{"type": "dense", "units": 16}]},
        seed=i,
        fidelity={"epochs": 1},
        status="ok" if ok else "failed",
        reason="" if ok else "TrainingDiverged: nan",
        metrics=m,
        test_metrics={"test_accuracy": 0.5},
        costs={"flops": cost},
        reward=m.get("accuracy", 0.0),
        objectives={"score": m.get("accuracy", 0.0)},
        genome=[i % 5],
    ),
    st.integers(0, 10**6),
    metrics,
    st.floats(1, 1e6),
    st.booleans(),
)


def write_log(path: Path, evals: list[Evaluation], finish: bool = True) -> bytes:
    with RunLog(
        path, {"env_id": "x", "seed": 0, "budget": max(1, len(evals))}, cost="flops"
    ) as log:
        for step, e in enumerate(evals):
            e.step = step
            log.append(e)
        if finish:
            log.close()
    return path.read_bytes()


@SETTINGS
@given(evals=st.lists(evaluations, max_size=6), cut=st.floats(0, 1))
def test_a_log_cut_anywhere_reads_as_a_prefix_or_is_refused(tmp_path, evals, cut) -> None:
    """A killed run leaves a prefix of its log: every cut point reads as the evaluations
    written before it (a torn line dropped), or, inside the header, as 'no header line'."""
    path = tmp_path / "run.jsonl"
    data = write_log(path, evals)
    path.write_bytes(data[: int(cut * len(data))])
    header_end = data.index(b"\n") + 1
    if int(cut * len(data)) < header_end:
        with pytest.raises(ValueError, match="not a darwin_bench run log"):
            read_runlog(path)
        return
    run = read_runlog(path)
    full = [e.evaluation_id for e in evals]
    assert [e.evaluation_id for e in run.evaluations] == full[: len(run.evaluations)]
    assert run.complete == (int(cut * len(data)) >= len(data) - 1)


@SETTINGS
@given(evals=st.lists(evaluations, min_size=1, max_size=4), data=st.data())
def test_a_damaged_byte_is_refused_or_read_as_valid(tmp_path, evals, data) -> None:
    """Flip one byte anywhere: the reader either refuses the log with a ValueError naming the
    file, or reads a log whose every line passed the schema; it never raises anything else."""
    path = tmp_path / "run.jsonl"
    raw = bytearray(write_log(path, evals))
    where = data.draw(st.integers(0, len(raw) - 1))
    raw[where] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(raw))
    try:
        run = read_runlog(path)
    except ValueError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert all(isinstance(e.seed, int) and isinstance(e.costs, dict) for e in run.evaluations)


FIELDS = {
    "evaluation_id": [1, None, "", "x" * 300],
    "seed": ["3", 3.5, True, -1, None],
    "fidelity": [[1], {"epochs": "1"}, {"epochs": 1.5}],
    "status": ["fine", 1],
    "metrics": [{"accuracy": "high"}, [0.5], {"accuracy": None}],
    "costs": [{"flops": "1"}, 5],
    "reward": ["0.5", [1]],
    "genome": [[1.5], "1,2", [None]],
    "step": [-1, "0", 0.0],
    "train_seconds": [-1.0, "1"],
    "nonsense": [1],
}


@pytest.mark.parametrize("field, value", [(f, v) for f, values in FIELDS.items() for v in values])
def test_a_wrongly_typed_evaluation_field_is_named(tmp_path, field, value) -> None:
    path = tmp_path / "run.jsonl"
    write_log(path, [], finish=False)
    good = {"type": "evaluation", **Evaluation("a" * 32, {}, 0, {"epochs": 1}, step=0).to_dict()}
    with path.open("a") as f:
        f.write(json.dumps({**good, field: value}) + "\n")
    with pytest.raises(ValueError, match=rf"run.jsonl:2: evaluation line: {field}"):
        read_runlog(path)


@SETTINGS
@given(blob=st.binary(max_size=300))
def test_arbitrary_bytes_are_refused(tmp_path, blob) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_bytes(blob)
    with pytest.raises(ValueError):
        read_runlog(path)


@SETTINGS
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_any_json_line_after_the_header_is_read_or_refused(tmp_path, value) -> None:
    path = tmp_path / "run.jsonl"
    write_log(path, [], finish=False)
    with path.open("a") as f:
        f.write(json.dumps(value) + "\n")
    try:
        run = read_runlog(path)
    except ValueError as exc:
        assert "run.jsonl:2:" in str(exc)
        return
    assert len(run.evaluations) == 1 or run.complete


HEAD = '{"type": "header", "format": "darwin_bench.runlog/2"'


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no header line"),
        (HEAD, "no header line"),  # torn
        ("[1, 2]\n", "must be a JSON object; got list"),
        (
            HEAD + ', "seed": "0"}\n',
            "header line: seed",
        ),
        (
            HEAD + ', "budget": 0}\n',
            "header line: budget",
        ),
        (
            HEAD + '}\n{"type": "header", "format": "x"}\n',
            "line type 'header' is not allowed here",
        ),
        (
            HEAD + '}\n{"type": "comment"}\n',
            "line type 'comment' is not allowed here; allowed: evaluation, footer",
        ),
        (
            HEAD + '}\n{"type": "footer", "evaluations": 2}\n',
            "the footer counts 2 evaluations but the log holds 0",
        ),
        (
            HEAD + '}\n{"type": "footer"}\n{"type": "footer"}\n',
            "a line after the footer",
        ),
        (
            HEAD + '}\n\n{"type": "footer"}\n',
            "run.jsonl:2: not valid JSON",
        ),
        (
            HEAD + ', "x": NaN}\n',
            "NaN is not a JSON number",
        ),
        (
            HEAD + ', "x": Infinity}\n',
            "not a JSON number",
        ),
        (
            HEAD + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
            "nested too deeply",
        ),
        (
            HEAD + ', "x": ' + "9" * 5000 + "}\n",
            "not valid JSON",
        ),
        (HEAD + "}\n\xff\xfe\n", "not valid JSON"),
    ],
)
def test_malformed_logs_are_refused_with_the_line(tmp_path, text, message) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(
        text.encode("utf-8", "surrogateescape") if "\xff" not in text else text.encode("latin-1")
    )
    with pytest.raises(ValueError, match=message):
        read_runlog(path)


def test_the_evaluation_line_schema_has_every_evaluation_field() -> None:
    """A field added to Evaluation must be added to the schema (else every log is refused)."""
    from dataclasses import fields

    from darwin_bench.runlog_schema import EvaluationLine

    assert set(EvaluationLine.model_fields) == {"type"} | {f.name for f in fields(Evaluation)}


def test_evaluations_out_of_order_or_missing_are_refused(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    write_log(path, [], finish=False)
    e = {"type": "evaluation", **Evaluation("a" * 32, {}, 0, {"epochs": 1}, step=1).to_dict()}
    with path.open("a") as f:
        f.write(json.dumps(e) + "\n")
    with pytest.raises(ValueError, match="run.jsonl:2: evaluation step 1, expected 0"):
        read_runlog(path)


def test_huge_files_and_lines_are_refused_before_they_are_read(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    write_log(path, [], finish=False)
    with path.open("a") as f:
        f.write('{"type": "footer", "pad": "' + "x" * 5000 + '"}\n')
    with pytest.raises(ValueError, match=r"over the limit of 1,000 bytes \(max_bytes\)"):
        read_runlog(path, max_bytes=1000)
    with pytest.raises(ValueError, match=r"run.jsonl:2: line is over the limit of 4,096 bytes"):
        read_runlog(path, max_line_bytes=4096)
    assert read_runlog(path).complete
