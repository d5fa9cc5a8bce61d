//! HTTP-level failures and quirks, through a real client on loopback.
