"""Report: words (i18n), labels, maps, sheets and spreadsheets made from analysis results."""
