"""Cross-cutting parts every app uses: the audit log, roles and permissions, the base pages."""
