"""Label Studio: labelling config, push, pull and the ML backend."""
