"""Scoring predictions against gold, reports and plots."""
