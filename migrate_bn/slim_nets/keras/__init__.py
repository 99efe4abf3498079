"""tf-slim's nets (and the TF models repository's MobileNet v1) in Keras 3, with tf-slim's
weight layout (written for migrate-bn).

`migrate-bn upgrade` copies this package into a project as `slim_nets_keras`, so the
upgraded code imports it (`from slim_nets_keras import resnet_v1`); it needs only Keras 3
on TensorFlow. Each net function takes the net's arguments (without `inputs` and
`is_training`) and its arg scope's keywords, and returns a model called as
`net, end_points = model(images, training=...)`.
"""
