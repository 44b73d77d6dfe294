"""The pixel operators and the colour maths (pure: imports nothing else of the engine)."""
