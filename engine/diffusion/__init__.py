"""The PerTouch diffusion engine: the ControlNet, its parameter maps, detail transfer."""
