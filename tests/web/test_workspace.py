import pytest

from pertouch.core.errors import InputError, NotFoundError
from pertouch.web.workspace import Workspace, new_token, safe_name, valid_token

TRAVERSALS = ["..", "../x", "a/b", "/etc/passwd", "~/x", "x\x00y", "", ".hidden", "a\\b", "..\\x", " x"]


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_inside_refuses_every_path_like_value(tmp_path, bad):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InputError):
        ws.inside("uploads", bad)
    with pytest.raises(InputError):
        safe_name(bad, "name")


def test_inside_accepts_plain_names_and_stays_inside(tmp_path):
    ws = Workspace(tmp_path / "ws")
    p = ws.folder("downloads", "abc123")
    assert p.is_dir() and p.is_relative_to(ws.root)


def test_inside_refuses_a_symlink_out(tmp_path):
    ws = Workspace(tmp_path / "ws")
    (ws.root / "link").symlink_to(tmp_path)
    with pytest.raises(InputError):
        ws.inside("link", "x")


def test_owners_are_exclusive_and_persist(tmp_path):
    ws = Workspace(tmp_path / "ws")
    a, b = new_token(), new_token()
    assert valid_token(a) and not valid_token("../" + a[3:])
    ws.claim("s1", a)
    ws.claim("s1", a)  # again: fine
    with pytest.raises(NotFoundError):
        ws.claim("s1", b)
    with pytest.raises(NotFoundError):
        ws.check_owner("s1", b)
    assert Workspace(tmp_path / "ws").owner("s1") == a
