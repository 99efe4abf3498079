"""The whole-program model (design.md sections 7 and 8): what rules and upgrade ask about
the graphs a project builds. Today: structure queries over one module's facts
(`structure`: loop and branch frames) and slim `arg_scope` values (`arg_scopes`).
Across modules: the project as one program (`program`: entry programs and what they
reach through imports), attribute values at graph-build time (`attributes`) and training
flags carried by calls between modules (`flag_calls`)."""
