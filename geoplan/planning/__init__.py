"""Site suggestions on top of the pipeline (bus stops today)."""
