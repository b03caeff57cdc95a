"""The names of the training recipes, apart from :mod:`skmatnet._recipes`.

That module builds the recipes and imports torch; the command line and the
benchmark's configuration check a recipe name without it.
"""

__all__ = ["RECIPES"]

#: The recipes of ``from_recipe``: the recommended one (the estimator defaults) first.
RECIPES = ("recommended", "paper")
