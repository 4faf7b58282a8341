//! Background work that is not a request: delivered receipts ([`delivery`]) and the sweeper
//! of uploads whose message never committed ([`orphans`]). The group commit of sends sits
//! beside the store (`store::commit`), the push outbox worker in `push`.

pub mod delivery;
pub mod orphans;
