//! Integration tests of the crawler against the simulated fediverse: every request goes over
//! real sockets to the simulator on loopback, through its DNS, trusting its CA.

mod attacks;
mod blocks;
mod conditional;
mod crawl;
mod geo;
mod languages;
mod learned;
mod lemmy_world;
mod outcomes;
mod overload;
mod rates;
mod support;
