//! Background work that is not a request: delivered receipts ([`delivery`]). The group commit
//! of sends sits beside the store (`store::commit`), the push outbox worker in `push`.

pub mod delivery;
