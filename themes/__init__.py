"""zmtop's stylesheet and colour themes (installed as the package `zmtop.themes`)."""
