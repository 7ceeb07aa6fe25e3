"""Reading a committed dataset: SQL over its tables (``query``) and the HTML report (``report``)."""
