"""The compiled kernels of the parametric engine (numba when installed, NumPy otherwise)."""
