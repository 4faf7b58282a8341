//! Background work that is not a request: delivered receipts ([`delivery`]), the sweeper
//! of uploads whose message never committed ([`orphans`]), and the dispatcher of scheduled
//! messages and broadcasts ([`dispatch`]), and retention's purge of old messages ([`retention`]). The group commit of sends sits
//! beside the store (`store::commit`), the push outbox worker in `push`.

pub mod delivery;
pub mod dispatch;
pub mod orphans;
pub mod retention;
