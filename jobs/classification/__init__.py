"""Classification: the standard, per-customer features, one pure function per dimension,
behaviour segments and the Spark runner. Features DataFrame in, tags DataFrame out."""
