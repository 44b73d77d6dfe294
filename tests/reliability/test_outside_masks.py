"""A recipe from someone else is data, not a permission (issue 15 §5): its masks must lie
in its own folder unless --allow-outside-masks."""

from __future__ import annotations

import json
import shutil

from tests.reliability.conftest import cli, one_error_line


def _recipe(folder, mask: str):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "recipe.json"
    path.write_text(json.dumps({"regions": {"sky": {"mask": mask, "attributes": {"brightness": {"by": 0.1}}}}}))
    return path


def test_mask_outside_the_recipe_folder_is_refused(photo, tmp_path):
    priv = tmp_path / "priv"
    priv.mkdir()
    shutil.copy(tmp_path / "sky.png", priv / "private.png")
    out = tmp_path / "res" / "o.jpg"
    out.parent.mkdir()
    for mask in ("../../priv/private.png", str(priv / "private.png")):
        recipe = _recipe(tmp_path / "r" / "sub", mask)
        line = one_error_line(cli("apply", photo, "--recipe", recipe, "-o", out))
        assert "outside the recipe's folder" in line and "--allow-outside-masks" in line
    assert not out.exists() and not (out.parent / "o.jpg.masks").exists()  # nothing copied
    assert cli("apply", photo, "--recipe", recipe, "-o", out, "--allow-outside-masks").exit_code == 0
    assert (out.parent / "o.jpg.masks" / "sky.png").read_bytes() == (priv / "private.png").read_bytes()


def test_symlink_out_of_the_folder_is_refused(photo, tmp_path):
    recipe = _recipe(tmp_path / "r", "sky.png")
    (tmp_path / "r" / "sky.png").symlink_to(tmp_path / "sky.png")
    assert "outside" in one_error_line(cli("apply", photo, "--recipe", recipe, "-o", tmp_path / "o.jpg"))


def test_masks_inside_the_folder_and_sidecars_still_apply(photo, tmp_path):
    recipe = _recipe(tmp_path / "r", "masks/sky.png")
    (tmp_path / "r" / "masks").mkdir()
    shutil.copy(tmp_path / "sky.png", tmp_path / "r" / "masks" / "sky.png")
    assert cli("apply", photo, "--recipe", recipe, "-o", tmp_path / "a.jpg").exit_code == 0
    again = cli("apply", photo, "--recipe", tmp_path / "a.jpg.pertouch.json", "-o", tmp_path / "b.jpg")
    assert again.exit_code == 0, again.stderr
