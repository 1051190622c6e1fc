//! What every handler shares: a small `Clone` struct of `Arc`s. It holds the
//! infrastructure (configuration, database, blobs, clock, metrics, the platform's keys,
//! the media plane) and two handles through which areas meet without knowing each other:
//! [`Rooms`], where an area announces what it committed, and [`Runtimes`], the areas' own
//! run-time parts by type. This module names no area.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

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
    /// The live rooms (the hub): told after a commit so that watchers see it at once.
    pub rooms: Arc<dyn Rooms>,
    /// The areas' run-time parts (upload locks, openings being revealed, the hub), put in
    /// at start-up: [`AppState::runtime`].
    pub runtimes: Arc<Runtimes>,
    /// The media plane: audio and video of opening halls and committee rooms.
    pub media: kaibiao_media::Sfu,
}

impl AppState {
    /// Users' certified keys, checked against the platform CA at the server's time.
    pub fn keyring(&self) -> crate::pki::Keyring<'_> {
        crate::pki::Keyring {
            pool: &self.db.pool,
            ca_der: &self.pki.ca_der,
            now_ms: self.clock.now_ms(),
        }
    }

    /// The run-time part of type `T` that start-up put in.
    pub fn runtime<T: Send + Sync + 'static>(&self) -> &T {
        self.runtimes.get::<T>()
    }
}

/// What an area tells the live rooms of a tender; call after the transaction commits.
pub trait Rooms: Send + Sync {
    /// New ledger events of the tender were committed.
    fn notify(&self, tender_id: &str);
    /// These are the ledger events of the tender a transaction just committed, in order,
    /// and nothing else a room shows changed with them (the tender's status, its panel):
    /// the score writer's `scores_submitted`. The rooms send them without reading the
    /// ledger again; otherwise as [`Rooms::notify`].
    fn appended(&self, tender_id: &str, events: &[crate::ledger::Event]);
    /// The tender's bid register grew (only supervisors watch it live).
    fn notify_bids(&self, tender_id: &str);
    /// Transient progress of long work (the reading-out), not a ledger event.
    fn progress(&self, tender_id: &str, phase: &str, done: i64, total: i64, current: &str);
    /// A session ended: its live connections close.
    fn end_session(&self, session_id: &str);
    /// Who is in room `room`'s media now (told by the node whose SFU runs it).
    fn media(&self, room: &str, info: &kaibiao_media::RoomInfo);
    /// Every live room reads its ledger and bid register again (signals may have been
    /// missed: another node's, while the link to it was down).
    fn resync(&self);
}

/// Values by type, each shared (`Arc`): how areas keep run-time state in [`AppState`]
/// without the state naming them.
#[derive(Default)]
pub struct Runtimes(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl Runtimes {
    pub fn with<T: Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        self.0.insert(TypeId::of::<T>(), value);
        self
    }

    /// The value of type `T`. Start-up puts in every area's part before serving, so a
    /// missing one is a wiring fault.
    pub fn get<T: Send + Sync + 'static>(&self) -> &T {
        self.entry::<T>()
            .downcast_ref::<T>()
            .unwrap_or_else(|| unreachable!("stored under its own TypeId"))
    }

    /// The value of type `T`, shared.
    pub fn get_arc<T: Send + Sync + 'static>(&self) -> Arc<T> {
        self.entry::<T>()
            .clone()
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("stored under its own TypeId"))
    }

    fn entry<T: 'static>(&self) -> &Arc<dyn Any + Send + Sync> {
        self.0
            .get(&TypeId::of::<T>())
            .unwrap_or_else(|| panic!("no {} in the runtimes", std::any::type_name::<T>()))
    }
}
