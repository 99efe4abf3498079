"""The whole-program model (design.md sections 7 and 8): what rules and upgrade ask about
the graphs a project builds, one question per module:

- `structure`: the loop and branch frame a node is built in;
- `liveness`: code that never runs in the program;
- `graph_identity`: which graph a call builds in;
- `dataflow`: which values one batch norm feeds;
- `inputs`: whether a run can only compute the training pipeline's batches;
- `runs`: which runs evaluate a batch norm;
- `statistics`: who reads its moving statistics, with the project around the module in
  `project_graphs`;
- `feeds`: what a train step feeds;
- `cond_updates`: updates a `tf.cond` selects but that are built outside it;
- `spelled`: whether a module's text can name something at all (asked before a walk);
- `update_wiring`: train-op builders whose update wiring is switched off;
- `aliases`: the names a project gives TensorFlow in a module of its own;
- `keras_project`: what the whole project does with Keras batch norm;
- `views`: the project's modules parsed once, shared by analysis and import summaries;
- `analysed_summaries`: what a module's import summary needs, kept from its analysis
  for importers that ask after it;
- `producer_free`: modules whose import summary is empty, told without their facts;
- `summary_names`: whether a module's import summary can hold a name, from its bytes;
- `program`: the project as one program: its entry programs and what they reach
  through imports;
- `import_reach`: which modules a module may lead into through its imports, from its
  bytes alone (entries that cannot lead to a module are not followed for it);
- `attributes`: attribute values at graph-build time;
- `flag_calls`: training flags carried by calls between modules;
- `fed_flags`: flag placeholders fed a value always True by runs that evaluate;
- `dict_callables`: the project functions an Estimator `model_fn` calls through `params`;
- `returns`: the names a function's callers bind its returned values to;
- `batch_size`: whether every batch holds one example (instance norm by design);
- `options`: command-line option defaults;
- `persistence`: whether a program writes its variables anywhere another can read;
- `gan_steps`: which network a GAN step trains, and whose batch norm it is;
- `project_docs`: what the project's own words say about its batch norm.
"""
