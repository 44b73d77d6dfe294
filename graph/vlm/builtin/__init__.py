"""pertouch.graph.vlm.builtin — the offline, deterministic rule-based brain (spec ``builtin``).

- :mod:`.provider` — :class:`~.provider.BuiltinVLM`, the :class:`~pertouch.graph.vlm.base.VLM` it implements.
- the parser: :mod:`.parser` (words → Intent) over :mod:`.tokens`, :mod:`.lexicon`,
  :mod:`.clauses`, :mod:`.regions`, :mod:`.cues`, :mod:`.intents`, :mod:`.like`,
  :mod:`.language` and :mod:`.embedding` (MiniLM, the fallback for unknown words).
- the planner: :mod:`.planner`, :mod:`.optimize` (weak "make it better") with
  :mod:`.photo_stats` and :mod:`.style_guard`, :mod:`.styles` (the style library),
  :mod:`.advice` (answers to questions).
- the critic: :mod:`.critic`.

Nothing heavy is imported here.
"""
