"""Safe outputs: release requests reviewed by two independent output checkers."""
