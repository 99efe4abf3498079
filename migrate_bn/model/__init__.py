"""The whole-program model (design.md sections 7 and 8): what rules and upgrade ask about
the graphs a project builds. Today: structure queries over one module's facts
(`structure`: loop and branch frames), which runs evaluate a batch norm (`runs`), who
reads its moving statistics (`statistics`, with the project around the module in
`project_graphs`) and what a train step feeds (`feeds`)."""
