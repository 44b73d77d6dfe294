"""Measuring photos: the estimator formulas (the only ones), the one label-sum pass, the artefact gate."""
