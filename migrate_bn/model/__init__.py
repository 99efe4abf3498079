"""The whole-program model (design.md sections 7 and 8): what rules and upgrade ask about
the graphs a project builds. Today: structure queries over one module's facts
(`structure`: loop and branch frames) and slim `arg_scope` values (`arg_scopes`); which
code never runs in the program (`liveness`); which graph a call builds in
(`graph_identity`); which values one batch norm feeds (`dataflow`); whether a run can only
compute the training pipeline's batches (`inputs`); the updates a `tf.cond` selects but
that are built outside it (`cond_updates`); train-op builders whose update wiring is
switched off (`update_wiring`); and two project-wide questions: the names a project gives
TensorFlow in a module of its own (`aliases`) and what the whole project does with Keras
batch norm (`keras_project`)."""
