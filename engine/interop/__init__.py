"""Editor sidecars: PerTouch recipes as Camera Raw / Lightroom XMP and RawTherapee .pp3, and back.

- :mod:`.controls`: the sliders and their measured mapping to PerTouch levels
  (``engine/data/interop_rawtherapee.json``, fitted by ``scripts/fit_interop.py``);
- :mod:`.plan`: a recipe's from/to levels per region → slider values;
- :mod:`.camera_raw`: Camera Raw's ``crs:`` values from those (and back);
- :mod:`.xmp`, :mod:`.pp3`: the file formats; :mod:`.sidecars`: whole sidecars and
  ``import-xmp``'s recipe.
"""
