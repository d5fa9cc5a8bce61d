//! The endpoints each virtual server answers, per software, and the failures it answers with.
//!
//! (Being written.) Entry point: [`Handler::respond`].

use crate::clock::SimClock;
use crate::response::{SimRequest, SimResponse};
use crate::world::World;
use std::sync::Arc;

/// Answers requests for every server of one world. Holds the little mutable state real servers
/// have (rate-limit windows), so one handler is shared by every connection.
#[derive(Debug)]
pub struct Handler {
    world: Arc<World>,
    clock: SimClock,
}

impl Handler {
    /// A handler for `world`, answering as the world is at `clock`'s time.
    pub fn new(world: Arc<World>, clock: SimClock) -> Handler {
        Handler { world, clock }
    }

    /// The world it serves.
    pub fn world(&self) -> &Arc<World> {
        &self.world
    }

    /// The clock it reads.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// What the server named in `req.host` answers to `req`.
    pub fn respond(&self, req: &SimRequest) -> SimResponse {
        let _ = req;
        SimResponse::empty(404)
    }
}
