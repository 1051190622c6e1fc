//! What every handler shares: a small `Clone` struct of `Arc`s.

use std::sync::Arc;

use crate::bid::service::UploadLocks;
use crate::blob::BlobStore;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Database;
use crate::pki::Authority;
use crate::telemetry::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Database,
    pub blobs: BlobStore,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    pub pki: Arc<Authority>,
    pub uploads: Arc<UploadLocks>,
    pub hub: Arc<crate::hub::Hub>,
    /// Openings whose bids are being revealed by this process.
    pub revealing: Arc<crate::opening::reveal::Running>,
    /// The media plane: audio and video of opening halls and committee rooms.
    pub media: kaibiao_media::Sfu,
}
