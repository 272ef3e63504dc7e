"""Continuing-education certificates: PDF, numbering, verification, revocation."""
