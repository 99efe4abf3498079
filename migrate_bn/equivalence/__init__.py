"""The equivalence check of a model-code conversion (issue 15): does the Keras 3 model
compute what the TF1 model function computed, from the TF1 checkpoint?

- `tf1_side`: run under TensorFlow 2.12.1 (graph mode): the TF1 function's checkpoint,
  outputs and variables before and after 5 training steps;
- `tf2_side`: run under the newest TensorFlow: the TF1 checkpoint converted by
  `ckpt-convert`'s code into the Keras model, and the same computation;
- `compare`: both results against each other (numpy only);
- `check`: both sides run for one case, compared (the tests and the generated check);
- `generate`: the cases of a conversion and the `<module>_equivalence.py` script
  `migrate-bn upgrade` writes beside the converted module.

The two sides run as scripts in their own environments (the newest TensorFlow cannot
share one with 2.12.1); they import nothing of the package but, on the TF2 side,
`checkpoints`.
"""
