"""Safe projects: applications, approval and the public transparency register."""
