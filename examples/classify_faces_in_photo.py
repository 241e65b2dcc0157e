"""Print each face's emotion in a photo: python examples/classify_faces_in_photo.py PHOTO.jpg"""
import sys

import cv2

from emojicall.classifier import EmotionClassifier
from emojicall.detectors import create_detector

image = cv2.imread(sys.argv[1])
if image is None:
    sys.exit(f"cannot read {sys.argv[1]}")
faces = create_detector("mtcnn").detect(image)
EmotionClassifier().classify(image, faces)
for face in faces:
    print(face.box, face.label, f"{face.probs.max():.2f}")
