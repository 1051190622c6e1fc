//! The opening (开标). So far: sealing at the deadline (R-OPEN-1, R-TIME-2) by a scheduler
//! that survives restarts. The rest of the ceremony builds on the hub.

pub mod scheduler;
