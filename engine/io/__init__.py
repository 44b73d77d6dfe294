"""Photos and masks in and out: reading, writing, mask files, output paths."""
