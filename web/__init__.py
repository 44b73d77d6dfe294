"""The conversational web app (``pertouch serve``): Starlette + a small HTML/JS page.

- :mod:`pertouch.web.app`: the routes (thin);
- :mod:`pertouch.web.service`: sessions, turns, pointing, sliders, downloads;
- :mod:`pertouch.web.views`: screen-size pictures (photo, previews, overlay);
- :mod:`pertouch.web.recipes`: recipes as slider rows;
- :mod:`pertouch.web.uploads`: upload checks and demo photos;
- :mod:`pertouch.web.workspace`: the app's folder, path confinement, session owners.
"""
