# the honest twin of attacks that answer nothing: no answers at all
