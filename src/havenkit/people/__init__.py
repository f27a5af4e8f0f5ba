"""Safe people: accounts, roles, two-factor login."""
