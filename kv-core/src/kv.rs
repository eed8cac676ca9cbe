//! Lab 3's key/value service: the [`KvState`] machine and its operations, and the
//! generic service's types named for it.

mod op;
mod siphash;
mod state;
mod store;

pub use op::{Op, Outcome, KEY_BYTES_MAX, READ_BYTES_MAX, VALUE_BYTES_MAX};
pub use siphash::HashKey;
pub use state::{KvState, Read};

use crate::service;

pub type Server = service::Server<KvState>;
pub type ServerInput = service::ServerInput<Op>;
pub type ServerReady = service::ServerReady<Outcome>;
pub type Request = service::Request<Op>;
pub type Reply = service::Reply<Outcome>;
/// The service's errors; not specific to key/value, named so for lab 3's readers.
pub type KvError = service::ServiceError;
pub type Command = service::Command<Op>;
pub type Session = service::Session<Outcome>;
pub type Applied = service::Applied<Outcome>;
pub type Clerk = service::Clerk<Op, Outcome>;
pub type ClerkInput = service::ClerkInput<Op, Outcome>;
pub type ClerkReady = service::ClerkReady<Op, Outcome>;
pub type Completion = service::Completion<Op, Outcome>;
