"""Course packages, versions, the catalog, the learner player, progress and completion."""
