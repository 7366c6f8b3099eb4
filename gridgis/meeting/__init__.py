"""Meeting: the votes register, the Civil Code art. 278 tally and lettered proposals."""
