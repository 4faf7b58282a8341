//! What rusqlite needs to know of Spotter's types: ids bind and read as integers; SQLite's
//! failures become [`StoreError`]s.

use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};

use crate::domain::model::{
    BroadcastId, BroadcastState, ConversationId, DeviceId, MessageId, Platform, Role, ScheduledId,
    ScheduledState, TemplateId, UserId,
};
use crate::store::StoreError;

macro_rules! integer_ids {
    ($($id:ty),*) => {$(
        impl ToSql for $id {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0))
            }
        }

        impl FromSql for $id {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map(Self)
            }
        }
    )*};
}

integer_ids!(
    UserId,
    ConversationId,
    MessageId,
    DeviceId,
    TemplateId,
    BroadcastId,
    ScheduledId
);

/// Text columns holding one of a fixed set of words.
macro_rules! words {
    ($($word:ty),*) => {$(
        impl ToSql for $word {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $word {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = value.as_str()?;
                <$word>::parse(s).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(format!("unknown value {s:?}").into())
                })
            }
        }
    )*};
}

words!(Role, Platform, BroadcastState, ScheduledState);

/// SQLite's failure as the layers above need it: a full disk, a busy or unreadable database,
/// a unique constraint, or anything else.
pub fn to_store(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(f, message) = &e {
        let text = message.clone().unwrap_or_else(|| f.to_string());
        match f.extended_code {
            ffi::SQLITE_FULL => return StoreError::Full(text),
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StoreError::Conflict(text);
            }
            _ => {}
        }
        if matches!(
            f.code,
            rusqlite::ErrorCode::DatabaseBusy
                | rusqlite::ErrorCode::DatabaseLocked
                | rusqlite::ErrorCode::CannotOpen
        ) {
            return StoreError::Unavailable(text);
        }
    }
    StoreError::Other(anyhow::Error::new(e).context("sqlite"))
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        to_store(e)
    }
}
