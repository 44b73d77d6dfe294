"""Batches of photos: one recipe or one look over many photos, on local processes or a Ray cluster.

- :mod:`~pertouch.batch.render`: one recipe onto one photo, output + sidecar all or nothing
  (the code path of ``pertouch apply``);
- :mod:`~pertouch.batch.looks`: a reference's levels per label (``pertouch match``), or a user's
  remembered taste, turned into each photo's recipe;
- :mod:`~pertouch.batch.sources`: files, folders, globs, CSV manifests, fsspec URLs;
- :mod:`~pertouch.batch.tasks`: the spec every photo shares and the function a worker runs;
- :mod:`~pertouch.batch.executor` (local processes) and :mod:`~pertouch.batch.ray_exec` (Ray),
  resumable through :mod:`~pertouch.batch.manifest`.
"""
