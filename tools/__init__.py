"""Course tooling (student versions, badges): run from the repository, not installed with fmnist_utils."""
