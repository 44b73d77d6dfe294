"""The training config: read from JSON/YAML, checked, errors that say how to fix them."""

from __future__ import annotations

import pytest

from pertouch.core.errors import InputError
from pertouch.engine.train.config import TrainConfig


def test_config_errors_say_how_to_fix(tmp_path):
    with pytest.raises(InputError, match="lacks dataset"):
        TrainConfig.from_dict({"model": "m"})
    with pytest.raises(InputError, match="unknown training setting"):
        TrainConfig.from_dict({"model": "m", "dataset": "d", "learning_rate": 1})
    with pytest.raises(InputError, match="mixed_precision"):
        TrainConfig.from_dict({"model": "m", "dataset": "d", "mixed_precision": "fp8"})
    (tmp_path / "c.yaml").write_text("model: m\ndataset: d\nsteps: 3\n")
    cfg = TrainConfig.load(tmp_path / "c.yaml")
    assert cfg.steps == 3 and cfg.model == str(tmp_path / "m")
