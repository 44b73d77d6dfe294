"""Batches of photos: one recipe or one look over many photos, on local processes or a Ray cluster."""
