"""``hotline demo``'s parts: the simulated PBX and traffic (``plan``) and the run (``run``)."""
