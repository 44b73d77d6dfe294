"""The LiteRT loader: the same outputs whatever the thread count, and the per-call
thread choice follows measured speed."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.core.errors import ModelError
from pertouch.tools import litert
from pertouch.tools.litert import LiteModel, ThreadChoice, model, thread_options


@pytest.mark.parametrize("name", ["face_detection_short_range.tflite", "face_landmark.tflite"])
def test_outputs_do_not_depend_on_the_thread_count(name):
    one, two = LiteModel(name, 1), LiteModel(name, 2)
    x = np.random.default_rng(0).random(one.input_shape, dtype=np.float32)
    for a, b in zip(one.run(x), two.run(x)):
        assert a.shape == b.shape and np.array_equal(a, b)


def test_adaptive_model_uses_both_thread_counts_with_equal_outputs():
    m = LiteModel("face_detection_short_range.tflite")
    if len(m.choice.options) < 2:
        pytest.skip("one core or pinned thread count: nothing to choose")
    x = np.random.default_rng(1).random(m.input_shape, dtype=np.float32)
    outs = [m.run(x) for _ in range(2 * m.choice.probe_every)]
    assert set(m.choice.typical) == set(m.choice.options)  # both were measured
    for o in outs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(outs[0], o))


def test_choice_prefers_the_faster_and_probes_the_other():
    c = ThreadChoice((2, 1), probe_every=4, stale_s=100.0)
    t = 0.0
    picks = []
    for _ in range(16):
        n = c.pick(t)
        picks.append(n)
        c.record(n, 0.010 if n == 2 else 0.004, t)  # 1 thread is faster (a busy machine)
        t += 0.01
    assert picks[:4] == [2, 2, 2, 1]  # the first option until the first probe
    assert picks.count(1) == 10 and picks[7::4] == [2, 2, 2]  # then the faster, the other probed 1 in 4


def test_choice_follows_a_change_of_load():
    c = ThreadChoice((2, 1), probe_every=4, stale_s=100.0)
    t = 0.0
    for _ in range(10):
        n = c.pick(t)
        c.record(n, 0.005 if n == 2 else 0.010, t)  # idle: 2 threads faster
        t += 0.01
    assert min(c.typical, key=c.typical.get) == 2
    for _ in range(40):
        n = c.pick(t)
        c.record(n, 0.020 if n == 2 else 0.010, t)  # loaded: 2 threads slower
        t += 0.01
    assert c.pick(t + 0.001) == 1 or c.calls % c.probe_every == 0


def test_one_preempted_call_does_not_flip_the_choice():
    c = ThreadChoice((2, 1), probe_every=1000, stale_s=100.0)
    for t in range(5):
        c.record(2, 0.005, t)
        c.record(1, 0.010, t)
    c.record(2, 0.200, 6)  # another program took the core once
    assert c.pick(7) == 2


def test_stale_estimate_is_refreshed():
    c = ThreadChoice((2, 1), probe_every=1000, stale_s=1.0)
    c.record(2, 0.001, 0.0)
    c.record(1, 0.010, 0.0)
    assert c.pick(0.5) == 2
    assert c.pick(2.0) == 1  # the slower one's estimate is older than stale_s


def test_env_pins_the_thread_count(monkeypatch):
    monkeypatch.setenv(litert.THREADS_ENV, "1")
    assert thread_options() == (1,)
    assert LiteModel("face_detection_short_range.tflite").choice.options == (1,)
    monkeypatch.setenv(litert.THREADS_ENV, "two")
    with pytest.raises(ModelError, match="not a number"):
        thread_options()


def test_missing_model_file_says_how_to_fix():
    with pytest.raises(ModelError, match="missing from the package"):
        LiteModel("no_such_model.tflite")


def test_model_is_shared():
    assert model("face_detection_short_range.tflite") is model("face_detection_short_range.tflite")
