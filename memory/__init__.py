"""pertouch.memory: scene-aware memory of a person's retouching taste.

The agent uses (see :mod:`pertouch.memory.base` for the full contract)::

    from pertouch.memory import open_memory_or_none, MemoryRecord, image_descriptor

    memory, warning = open_memory_or_none()          # None + warning → run without memory
    desc = image_descriptor(rgb, regions)            # photo look + region composition
    recall = memory.recall(user, scene_description, desc)
    recall.preferences      # {label: {attribute: level}} absolute targets, usable as `to`
    recall.levels_for("sky"), recall.locked("face"), recall.evidence
    memory.remember(MemoryRecord(user=..., scene_description=..., image_descriptor=desc,
                                 instruction=..., levels=levels_by_label(report, labels),
                                 rating=1.0, image_hash=content_hash(file_bytes)))
    memory.add_feedback(user, "too warm", about=record_id)

Heavy dependencies (chromadb, onnxruntime, torch) load only when a store or the text
model is first used.
"""

from pertouch.memory.base import MIN_SIMILARITY, Evidence, Memory, MemoryUnavailable, Recall
from pertouch.memory.descriptors import image_descriptor
from pertouch.memory.factory import open_memory, open_memory_or_none
from pertouch.memory.records import SCHEMA_VERSION, FeedbackEffect, MemoryRecord, content_hash, levels_by_label

__all__ = ["MIN_SIMILARITY", "SCHEMA_VERSION", "Evidence", "FeedbackEffect", "Memory", "MemoryRecord",
           "MemoryUnavailable", "Recall", "content_hash", "image_descriptor", "levels_by_label", "open_memory",
           "open_memory_or_none"]
