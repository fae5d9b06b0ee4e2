"""The passage-role classifier and source-mention tagger: loading, saving, predicting."""
