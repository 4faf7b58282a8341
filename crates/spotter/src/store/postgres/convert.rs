//! What sqlx needs to know of Spotter's types on PostgreSQL: ids are `BIGINT`s, roles and
//! platforms `TEXT`; the driver's failures become [`StoreError`]s.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use crate::domain::model::{
    BroadcastId, BroadcastState, ConversationId, DeviceId, MessageId, Platform, Role, ScheduledId,
    ScheduledState, TemplateId, UserId,
};
use crate::store::StoreError;

macro_rules! bigint_ids {
    ($($id:ty),*) => {$(
        impl Type<Postgres> for $id {
            fn type_info() -> PgTypeInfo {
                <i64 as Type<Postgres>>::type_info()
            }
        }

        impl Encode<'_, Postgres> for $id {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <i64 as Encode<Postgres>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $id {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                <i64 as Decode<Postgres>>::decode(value).map(Self)
            }
        }
    )*};
}

bigint_ids!(
    UserId,
    ConversationId,
    MessageId,
    DeviceId,
    TemplateId,
    BroadcastId,
    ScheduledId
);

macro_rules! words {
    ($($word:ty),*) => {$(
        impl Type<Postgres> for $word {
            fn type_info() -> PgTypeInfo {
                <&str as Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as Type<Postgres>>::compatible(ty)
            }
        }

        impl Encode<'_, Postgres> for $word {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $word {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let s = <&str as Decode<Postgres>>::decode(value)?;
                <$word>::parse(s).ok_or_else(|| format!("unknown value {s:?}").into())
            }
        }
    )*};
}

words!(Role, Platform, BroadcastState, ScheduledState);

/// PostgreSQL's failure as the layers above need it.
pub fn to_store(e: sqlx::Error) -> StoreError {
    match &e {
        // No connection in time, or the server went away: the client should retry.
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(db) if db.code().as_deref() == Some("53100") => {
            StoreError::Full(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        _ => StoreError::Other(anyhow::Error::new(e).context("postgres")),
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        to_store(e)
    }
}
