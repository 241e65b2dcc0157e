"""CI: the README's first command wrote a playable video with an emoji on the face (not just a file).
usage: python .ci/check_demo.py OUTPUT.mp4"""
import sys

import cv2
import numpy as np

from emojicall.paths import demo_clip


def frames(path):
    cap, out = cv2.VideoCapture(str(path)), []
    while (frame := cap.read()[1]) is not None:
        out.append(frame)
    return out


def main(path: str) -> int:
    made, source = frames(path), frames(demo_clip())
    if len(made) != len(source) or not made:
        print(f"check_demo: {path} has {len(made)} decodable frames, the demo clip {len(source)}")
        return 1
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    covered = 0
    for src, out in zip(source[::10], made[::10]):
        found = cascade.detectMultiScale(cv2.cvtColor(src, cv2.COLOR_BGR2GRAY), 1.1, 5, minSize=(30, 30))
        if len(found) == 0:
            continue
        x, y, w, h = max(found, key=lambda b: b[2] * b[3])
        hsv = cv2.cvtColor(out[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4], cv2.COLOR_BGR2HSV)
        yellow = np.mean((hsv[..., 0] >= 18) & (hsv[..., 0] <= 35) & (hsv[..., 1] > 150) & (hsv[..., 2] > 150))
        covered += yellow > 0.3
    sampled = len(source[::10])
    print(f"check_demo: {len(made)} frames decode; emoji over the face in {covered} of {sampled} sampled frames")
    return 0 if covered >= 0.8 * sampled else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
