"""The project's own pages: a sweep's answer and a run's lesson as self-contained HTML files.

Each is logged as an artifact, which MLflow's UI shows in its Artifacts tab (and opens by a deep
link, runner/tracking/ui.py), and written beside the run's other files, which a browser opens with
no server. A page loads nothing from outside itself: its pictures inline, its style and its small
script its own; it reads with scripts off. Every value from a user is escaped (markup.text).
"""
