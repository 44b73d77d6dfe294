"""Kept for code written against ``pertouch.home``: the home folder lives in :mod:`pertouch.core.home`."""

from pertouch.core.home import ENV_VAR, app_home, home_path

__all__ = ["ENV_VAR", "app_home", "home_path"]
