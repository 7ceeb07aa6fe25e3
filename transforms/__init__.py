"""Beam transforms of newsbeam and the pure, typed functions they wrap."""
