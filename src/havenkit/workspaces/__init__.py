"""Safe settings: project workspaces, their code, and jobs run in the sandbox."""
