//! The Redis protocol (RESP2) front end, as pure functions over byte slices: no sockets,
//! no clock. The network loop owns the read buffer and the connection; this module only
//! says what the bytes mean and what to answer.
//!
//! A connection's life, as the caller drives it:
//!
//! 1. [`parse_command`] on the front of the read buffer. `Ok(None)`: read more.
//!    `Ok(Some((args, consumed)))`: drop `consumed` bytes; if `args` is empty (a blank
//!    inline line, `*0`, `*-1`) there is no command and nothing to answer, so parse
//!    again. `Err(e)`: send `e.to_reply()` and close the connection, as redis does; the
//!    buffer's position is lost, so no later byte can be trusted.
//! 2. [`to_command`] on the arguments. `Err(e)`: send `e.to_reply()` and carry on; the
//!    connection is still in sync.
//! 3. Route by [`Command::is_write`]: writes go through the log, reads by ReadIndex, and
//!    the connection-level commands (`PING`, `ECHO`, `SELECT`, `COMMAND`, `CONFIG GET`,
//!    `QUIT`, ...) are answered locally; [`command_docs_reply`] and [`config_get_reply`]
//!    build the answers that need a table.
//! 4. [`encode()`] each [`Reply`], in request order, into the write buffer.
//!
//! Limits ([`Limits`]) are checked before anything is allocated, so a client cannot make
//! the server reserve memory by announcing a length it never sends.

mod build;
mod command;
mod encode;
mod inline;
mod parse;
mod table;

pub use command::{to_command, Command, CommandError};
pub use encode::{encode, Reply};
pub use parse::{parse_command, Limits, Parsed, ProtocolError};
pub use table::{command_docs_reply, config_get_reply};
