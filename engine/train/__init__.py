"""Training the PerTouch model: data, transforms, the loop, samples, the log."""
