"""tf-slim's nets (`tf_slim.nets`, `nets` of the TF models repository) as Keras 3 models
with slim's weight layout: the models (`keras/`, copied into a project by `upgrade`), the
checkpoint loading behind `ckpt-convert` (`convert`), and the table of what is converted
(`table`). Nothing here imports TensorFlow at import time.
"""
