"""Printable map sheets (A3 PDF/PNG, chat PNG) and the single-file offline HTML."""
