"""EmojiCall: webcam -> face detector -> FER emotion CNN -> emoji overlay -> virtual camera."""

__version__ = "0.1.0"
