"""Hydra multirun to MLflow, for any Hydra app: a run record and its one writer (writer.py), the
store (store.py: sqlite built safely, runs whose process is gone, fork safety), a sweep's plan,
progress lines and links, the rules for Ctrl-C and SIGTERM (signals.py), and a command's own
output folder. It imports nothing else of `runner`, and names nothing of the app that uses it.
"""
