//! Integration tests of the dashboard (filled in below).
