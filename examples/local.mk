# examples/: complete apps a user copies from; they use include/rill only.
