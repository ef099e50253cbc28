"""home_editor: drop photos, get cutouts and 3D models."""
