"""Developer tools for the compliance-auditing platform (not deployed)."""
