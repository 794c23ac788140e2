"""Reports for people: short answers, terminal colour, Markdown tables and self-contained HTML.

Pure functions from engine, diff and test results to strings. Nothing here evaluates: every
verdict shown comes from the engine's dataclasses, so a report never disagrees with the JSON.
"""
