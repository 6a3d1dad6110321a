"""Layout functions that misbehave, for the layout process's tests; the child imports them by name."""

import time

import pygraphviz


def graphviz_error(visible, rankdir='LR'):
    """Graphviz fails from C, writing its error on fd 2 as it does for 'trouble in init_rank'."""
    pygraphviz.AGraph(string='digraph { a -> }')


def hangs(visible, rankdir='LR'):
    """Like dot on 8,000 boxes: it never comes back on its own."""
    while True:
        time.sleep(1)


def says_so_and_hangs(visible, rankdir='LR'):
    """hangs, after a line on stdout that says the layout has begun."""
    print('laying out', flush=True)
    hangs(visible, rankdir)
