"""`crawler pr`: the lines a pull request changes, and what to say about them."""
