//! The fedicensus dashboard: server-rendered pages, charts and the JSON/CSV API.
//!
//! Not written yet (its issue builds on storage). Its boundaries are already fixed and checked in
//! CI: it reads through `fedicensus-storage` and `fedicensus-core`, never the crawler.
