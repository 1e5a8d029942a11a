"""A second Hydra app on runner/tracking/ alone, which is not the perceptron: the minimum of
f(x) = (x - a)² over a grid of x. It proves the tracking layer generic (tests/test_second_app.py):
a sweep of it gets a parent run that speaks, children under it, progress lines, resume, the
parallel launcher and a review of its own, as the perceptron's sweeps do.

    PYTHONPATH=tests python -m minimum_app -m x=0,1,2,3,4,5
"""
