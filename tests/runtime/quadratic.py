"""The fixed quadratic both optimizer runners minimize (optimizer_tf1.py runs under
TF 2.12.1 in graph mode, optimizer_keras.py under the newest TF): the same numbers for both."""
import numpy as np

STEPS = 20
START = np.array([1.5, -2.0, 0.5, 3.0], dtype=np.float32)
TARGET = np.array([0.3, 0.1, -0.7, 1.2], dtype=np.float32)
SCALE = np.array([1.0, 4.0, 0.5, 2.0], dtype=np.float32)
