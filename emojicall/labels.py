"""The one label order used everywhere: FER-2013's original order (fer2013.csv's emotion column)."""

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# Kaggle's folder layout names folders by class; these are the spellings seen in the wild.
ALIASES = {"anger": "angry", "disgusted": "disgust", "fearful": "fear", "happiness": "happy",
           "sadness": "sad", "surprised": "surprise", "calm": "neutral"}


def label_index(name: str) -> int:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in LABELS:
        raise ValueError(f"unknown emotion class '{name}': expected one of {', '.join(LABELS)}")
    return LABELS.index(key)
