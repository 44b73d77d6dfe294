"""Editor sidecars: PerTouch recipes as Camera Raw / Lightroom XMP and RawTherapee .pp3, and back."""
