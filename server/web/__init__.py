"""Cross-cutting web plumbing: rendering, security, errors, health, shared types."""
