"""The order of the examples in the gallery: the quick start first."""

EXAMPLE_ORDER = (
    "plot_quickstart.py",
    "plot_grid_search.py",
    "plot_distillation.py",
    "plot_attention.py",
    "plot_molecules.py",
    "plot_speed.py",
)


class ExampleOrder:
    """sphinx-gallery sort key: the listed examples in order, then the rest by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in EXAMPLE_ORDER:
            return (EXAMPLE_ORDER.index(filename), filename)
        return (len(EXAMPLE_ORDER), filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
