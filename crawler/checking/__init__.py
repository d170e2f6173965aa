"""The check stage: from precheck to verdict, the checker, worker processes."""
