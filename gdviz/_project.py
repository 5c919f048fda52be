"""Where gdviz lives: the one place that names the repository and the release tag.

Every notebook's "Open in Colab" badge and Colab install line is generated from these
two constants (``tools/notebook_header.py``), and a test keeps them consistent.
"""

REPOSITORY_URL = "https://github.com/gdviz-edu/gdviz"
RELEASE_TAG = "v0.1.0"
BRANCH = "main"


def pip_spec() -> str:
    """The requirement string the Colab setup cell installs: this repository at the release tag."""
    return f"gdviz @ git+{REPOSITORY_URL}@{RELEASE_TAG}"
