"""The command line: click commands, init and its workflows, the outputs a run writes."""
