"""zmtop's screens: the job tree, a process's memory, a VMO, all VMOs, help."""
