"""The whole-program model (design.md sections 7 and 8): what rules and upgrade ask about
the graphs a project builds. Today: structure queries over one module's facts
(`structure`: loop and branch frames) and slim `arg_scope` values (`arg_scopes`); which
code never runs in the program (`liveness`); which graph a call builds in
(`graph_identity`); which values one batch norm feeds (`dataflow`); and whether a run
can only compute the training pipeline's batches (`inputs`)."""
