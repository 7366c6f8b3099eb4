"""Panels the pages draw (site panel, checks, cost table, cards, tables), kept out of the pages."""
