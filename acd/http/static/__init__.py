"""Static files of the web pages (no inline scripts or styles: see acd.http.hardening)."""
