"""The recording file: its format, the delta codec, the writer and the reader."""
