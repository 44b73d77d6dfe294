"""Pure image code, in rooms by job (nothing here knows about language models):

- ``schema/``: attributes, level tables, recipes, regions
- ``measure/``: the estimator formulas (the only ones), the label-sum pass (``stats``), the artefact gate
- ``ops/``: the pixel operators, colour maths, the numba switch (``jit``)
- ``parametric/``: the parametric engine (``engine``), planning, solving, weights; ``fast/``: its compiled kernels
- ``diffusion/``: the PerTouch model (``engine``, ``controlnet``, parameter maps, detail transfer)
- ``io/``: reading and writing photos and masks, output paths
- ``train/``: training the PerTouch model; ``interop/``: editor sidecars
- ``base``: the Engine interface; ``engines``: the factory

Lower rooms never import higher ones (``tests/test_layering.py``). Import submodules
directly, e.g. ``from pertouch.engine.schema.recipe import Recipe``.
"""
