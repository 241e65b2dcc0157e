"""EmojiCall: webcam -> face detector -> FER emotion CNN -> emoji overlay -> virtual camera."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emojicall")  # pyproject.toml's, so --version cannot drift from it
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0+unknown"
