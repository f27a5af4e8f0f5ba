"""havenkit: a Trusted Research Environment for health data safe havens (the Five Safes)."""

__version__ = "0.1.0"
