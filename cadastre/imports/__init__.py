"""Records of imports of legacy files and of the features they quarantined."""
