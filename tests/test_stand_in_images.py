"""scripts/stand_in_images.py: the stand-in image data that times image tasks offline."""

from __future__ import annotations

import numpy as np
import pytest

from darwin_bench.tasks import images as image_tasks
from scripts import stand_in_images as stand_in


def test_stand_in_has_the_real_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Restore the real loader after the test.
    monkeypatch.setattr(image_tasks, "load_image_dataset", image_tasks.load_image_dataset)
    monkeypatch.setitem(stand_in.REAL_SIZES, "cifar10", (500, 100, (32, 32, 3)))  # small here
    stand_in.install()
    data = image_tasks.load_image_dataset("cifar10")
    assert data.x_train.shape == (500, 32, 32, 3) and data.x_test.shape == (100, 32, 32, 3)
    assert data.x_train.dtype == np.uint8 and data.num_classes == 10
    assert stand_in.REAL_SIZES["mnist"] == (60000, 10000, (28, 28))
    task = image_tasks.ImageTask("cifar10")
    assert task.input_shape == (3, 32, 32)
