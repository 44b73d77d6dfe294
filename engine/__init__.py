"""Pure image code: attributes, levels, recipes, regions, engines, image I/O.

Nothing here knows about language models. Import submodules directly, e.g.
``from pertouch.engine.recipe import Recipe``.
"""
