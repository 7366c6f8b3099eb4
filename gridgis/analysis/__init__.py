"""Analysis: the site engine and the metrics, costs, rules and layouts it combines."""
