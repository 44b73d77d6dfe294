"""pertouch.graph.vlm — the models that think, behind one interface.

- :mod:`.schemas` — typed results of the four roles (SceneDescription, Intent,
  Plan, Critique) and the SceneInfo they get; field descriptions are the prompt.
- :mod:`.base` — the :class:`~.base.VLM` interface, :class:`~.base.VLMError`,
  :func:`~.base.plan_to_recipe`.
- :mod:`.registry` — :func:`~.registry.get_vlm` by spec string (``builtin``,
  ``openai:MODEL``, ``hf:PATH``, ``fake:FILE``) and per-role routing.
- :mod:`.prompts` (from the attribute registry), :mod:`.magnitudes` (the size scale),
  :mod:`.builtin.styles` (the style library); :mod:`.builtin` is the offline rule-based brain.

Nothing heavy is imported here.
"""
