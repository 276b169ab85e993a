"""A small web service that reports the version it was built with."""

from importlib import metadata

DIST_NAME = "release-sample-app"


def version() -> str:
    """The version of the installed distribution, as the wheel build recorded it.

    Running from a source tree without installing gives "0.0.0+unknown".
    """
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"
