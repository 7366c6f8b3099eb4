"""Stall layout of e-bike sheds: the full layout and its closed form for rectangles."""
