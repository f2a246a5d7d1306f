"""zmtop's widgets: Line-API tables over snapshots, the kstats header, the find bar."""
