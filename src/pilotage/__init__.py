"""Pilotage: the platform that runs the Territoires d'industrie programme."""
