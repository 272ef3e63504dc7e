"""The LTI 1.3 Advantage tool: registration, launch, Deep Linking, AGS, NRPS, keys."""
