"""Process 'unterhaltsvorschuss': intake of applications for Unterhaltsvorschuss (UVG)."""
