"""The parametric engine: planning, solving, weights, the layer cache."""
