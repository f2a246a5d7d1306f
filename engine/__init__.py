"""The model, in one subpackage per stage of the data flow: a source (sim, or a file read by
sources) makes an immutable snapshot each tick (accounting, snapshot); formats, analysis and
recording read it. Never imports Textual."""
