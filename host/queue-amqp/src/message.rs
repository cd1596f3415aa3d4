//! Message bodies and headers.

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, ShortString};
use weft_queue::{DeadReason, Error, Result, Task};

pub(crate) const DELIVERIES: &str = "x-weft-deliveries";
pub(crate) const REASON: &str = "x-weft-reason";
pub(crate) const DEAD_AT: &str = "x-weft-dead-at";

pub(crate) fn body(task: &Task) -> Result<Vec<u8>> {
    serde_json::to_vec(task).map_err(|e| Error::Unavailable(format!("task encoding: {e}")))
}

pub(crate) fn task(body: &[u8]) -> Option<Task> {
    serde_json::from_slice(body).ok()
}

/// Persistent, with its id and headers.
pub(crate) fn properties(id: &str, headers: FieldTable) -> BasicProperties {
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        .with_message_id(id.into())
        .with_headers(headers)
}

pub(crate) fn headers(deliveries: u32) -> FieldTable {
    let mut t = FieldTable::default();
    t.insert(
        DELIVERIES.into(),
        AMQPValue::LongLongInt(i64::from(deliveries)),
    );
    t
}

pub(crate) fn dead_headers(deliveries: u32, reason: DeadReason, at_ms: i64) -> FieldTable {
    let mut t = headers(deliveries);
    let r = match reason {
        DeadReason::Rejected => "rejected",
        DeadReason::DeliveryLimit => "delivery_limit",
    };
    t.insert(REASON.into(), AMQPValue::LongString(r.into()));
    t.insert(DEAD_AT.into(), AMQPValue::LongLongInt(at_ms));
    t
}

/// An integer header, whatever integer type the sender used.
pub(crate) fn int(props: &BasicProperties, name: &str) -> Option<i64> {
    let table = props.headers().as_ref()?;
    let key: ShortString = name.into();
    match table.inner().get(&key)? {
        AMQPValue::ShortShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        AMQPValue::LongUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongLongInt(v) => Some(*v),
        _ => None,
    }
}

pub(crate) fn text(props: &BasicProperties, name: &str) -> Option<String> {
    let table = props.headers().as_ref()?;
    let key: ShortString = name.into();
    match table.inner().get(&key)? {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

pub(crate) fn message_id(props: &BasicProperties) -> String {
    props
        .message_id()
        .as_ref()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

pub(crate) fn count(v: Option<i64>) -> u32 {
    v.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}
