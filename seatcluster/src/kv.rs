//! Keys and values: ranges, puts, deletes and transactions with compares.

use crate::client::{Client, Kind};
use crate::error::{Error, Result};
use crate::wire;

/// A key as etcd stores it, with its revisions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: Vec<u8>,
    /// The value (empty when read with keys only).
    pub value: Vec<u8>,
    /// Revision of the put that created the key (since it last did not
    /// exist).
    pub create_revision: i64,
    /// Revision of the last put to the key.
    pub mod_revision: i64,
    /// Puts since creation (1 after the first).
    pub version: i64,
    /// The lease the key is attached to (0: none).
    pub lease: i64,
}

impl From<wire::KeyValue> for KeyValue {
    fn from(kv: wire::KeyValue) -> Self {
        KeyValue {
            key: kv.key,
            value: kv.value,
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            lease: kv.lease,
        }
    }
}

/// The end of the range of every key that starts with `prefix`, as etcd
/// spells it: the prefix with its last byte below 0xff incremented and
/// what follows dropped (`[0]`, meaning "to the end of the key space",
/// for an empty or all-0xff prefix).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// Which keys a read covers, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Range {
    /// The first key.
    pub key: Vec<u8>,
    /// One past the last key (empty: `key` alone).
    pub range_end: Vec<u8>,
    /// At most this many keys (0: no limit).
    pub limit: i64,
    /// Read as of this revision (0: the latest).
    pub revision: i64,
    /// Leave the values out.
    pub keys_only: bool,
}

impl Range {
    /// One key.
    pub fn key(key: impl Into<Vec<u8>>) -> Range {
        Range {
            key: key.into(),
            ..Range::default()
        }
    }

    /// Every key starting with `prefix`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> Range {
        let key = prefix.into();
        Range {
            range_end: prefix_end(&key),
            key,
            ..Range::default()
        }
    }

    /// Keys from `from` (inclusive) to `to` (exclusive).
    pub fn between(from: impl Into<Vec<u8>>, to: impl Into<Vec<u8>>) -> Range {
        Range {
            key: from.into(),
            range_end: to.into(),
            ..Range::default()
        }
    }

    /// At most `limit` keys.
    pub fn limit(mut self, limit: i64) -> Range {
        self.limit = limit;
        self
    }

    /// As of `revision`.
    pub fn at_revision(mut self, revision: i64) -> Range {
        self.revision = revision;
        self
    }

    fn to_wire(&self) -> wire::RangeRequest {
        wire::RangeRequest {
            key: self.key.clone(),
            range_end: self.range_end.clone(),
            limit: self.limit,
            revision: self.revision,
            keys_only: self.keys_only,
        }
    }
}

/// What a read found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeResponse {
    /// The keys, in key order.
    pub kvs: Vec<KeyValue>,
    /// Whether more keys matched than `limit` let through.
    pub more: bool,
    /// How many keys matched in all.
    pub count: i64,
    /// The store's revision when it was read.
    pub revision: i64,
}

impl From<wire::RangeResponse> for RangeResponse {
    fn from(r: wire::RangeResponse) -> Self {
        RangeResponse {
            kvs: r.kvs.into_iter().map(KeyValue::from).collect(),
            more: r.more,
            count: r.count,
            revision: r.header.revision,
        }
    }
}

/// How a compare relates the key's field to the given value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Equal.
    Equal,
    /// Not equal.
    NotEqual,
    /// The key's field is greater.
    Greater,
    /// The key's field is less.
    Less,
}

impl Cmp {
    fn name(self) -> &'static str {
        match self {
            Cmp::Equal => "EQUAL",
            Cmp::NotEqual => "NOT_EQUAL",
            Cmp::Greater => "GREATER",
            Cmp::Less => "LESS",
        }
    }
}

/// Which field of a key a compare reads. A missing key compares as
/// version, revisions and lease 0 (and fails every value compare).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// [`KeyValue::version`].
    Version(i64),
    /// [`KeyValue::create_revision`].
    CreateRevision(i64),
    /// [`KeyValue::mod_revision`].
    ModRevision(i64),
    /// [`KeyValue::lease`].
    Lease(i64),
    /// [`KeyValue::value`].
    Value(Vec<u8>),
}

/// One condition of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compare {
    /// The key.
    pub key: Vec<u8>,
    /// The relation.
    pub cmp: Cmp,
    /// The field and the value it is compared with.
    pub target: Target,
}

impl Compare {
    /// `key`'s mod revision `cmp` `revision` (fencing: equal to the
    /// revision at which ownership was taken).
    pub fn mod_revision(key: impl Into<Vec<u8>>, cmp: Cmp, revision: i64) -> Compare {
        Compare {
            key: key.into(),
            cmp,
            target: Target::ModRevision(revision),
        }
    }

    /// `key`'s create revision `cmp` `revision` (`Equal` to 0: the key
    /// does not exist).
    pub fn create_revision(key: impl Into<Vec<u8>>, cmp: Cmp, revision: i64) -> Compare {
        Compare {
            key: key.into(),
            cmp,
            target: Target::CreateRevision(revision),
        }
    }

    /// `key`'s version `cmp` `version`.
    pub fn version(key: impl Into<Vec<u8>>, cmp: Cmp, version: i64) -> Compare {
        Compare {
            key: key.into(),
            cmp,
            target: Target::Version(version),
        }
    }

    /// `key`'s lease `cmp` `lease`.
    pub fn lease(key: impl Into<Vec<u8>>, cmp: Cmp, lease: i64) -> Compare {
        Compare {
            key: key.into(),
            cmp,
            target: Target::Lease(lease),
        }
    }

    /// `key`'s value `cmp` `value`.
    pub fn value(key: impl Into<Vec<u8>>, cmp: Cmp, value: impl Into<Vec<u8>>) -> Compare {
        Compare {
            key: key.into(),
            cmp,
            target: Target::Value(value.into()),
        }
    }

    fn to_wire(&self) -> wire::Compare {
        use base64::Engine;
        let mut c = wire::Compare {
            key: self.key.clone(),
            result: self.cmp.name(),
            target: "",
            version: None,
            create_revision: None,
            mod_revision: None,
            lease: None,
            value: None,
        };
        match &self.target {
            Target::Version(v) => (c.target, c.version) = ("VERSION", Some(v.to_string())),
            Target::CreateRevision(v) => {
                (c.target, c.create_revision) = ("CREATE", Some(v.to_string()))
            }
            Target::ModRevision(v) => (c.target, c.mod_revision) = ("MOD", Some(v.to_string())),
            Target::Lease(v) => (c.target, c.lease) = ("LEASE", Some(v.to_string())),
            Target::Value(v) => {
                let text = base64::engine::general_purpose::STANDARD.encode(v);
                (c.target, c.value) = ("VALUE", Some(text));
            }
        }
        c
    }
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Write `value` at `key`, attached to `lease` (0: none).
    Put {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
        /// The lease (0: none).
        lease: i64,
    },
    /// Delete `key`, or every key from `key` to `range_end` (exclusive).
    Delete {
        /// The first key.
        key: Vec<u8>,
        /// One past the last key (empty: `key` alone).
        range_end: Vec<u8>,
    },
    /// Read.
    Range(Range),
}

impl Op {
    /// A put without a lease.
    pub fn put(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Op {
        Op::Put {
            key: key.into(),
            value: value.into(),
            lease: 0,
        }
    }

    /// A put attached to `lease`: the key goes when the lease does.
    pub fn put_with_lease(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>, lease: i64) -> Op {
        Op::Put {
            key: key.into(),
            value: value.into(),
            lease,
        }
    }

    /// Delete one key.
    pub fn delete(key: impl Into<Vec<u8>>) -> Op {
        Op::Delete {
            key: key.into(),
            range_end: Vec::new(),
        }
    }

    /// Delete every key from `from` to `to` (exclusive).
    pub fn delete_between(from: impl Into<Vec<u8>>, to: impl Into<Vec<u8>>) -> Op {
        Op::Delete {
            key: from.into(),
            range_end: to.into(),
        }
    }

    /// Delete every key starting with `prefix`.
    pub fn delete_prefix(prefix: impl Into<Vec<u8>>) -> Op {
        let key = prefix.into();
        Op::Delete {
            range_end: prefix_end(&key),
            key,
        }
    }

    /// Read `range`.
    pub fn get(range: Range) -> Op {
        Op::Range(range)
    }

    /// About how many bytes this operation adds to a request, for keeping
    /// transactions under etcd's request size limit (the protobuf
    /// encoding adds a few bytes per field; 16 covers them).
    pub fn size_estimate(&self) -> usize {
        16 + match self {
            Op::Put { key, value, .. } => key.len() + value.len(),
            Op::Delete { key, range_end } => key.len() + range_end.len(),
            Op::Range(r) => r.key.len() + r.range_end.len(),
        }
    }

    fn to_wire(&self) -> wire::RequestOp {
        match self {
            Op::Put { key, value, lease } => wire::RequestOp::Put(wire::PutRequest {
                key: key.clone(),
                value: value.clone(),
                lease: *lease,
            }),
            Op::Delete { key, range_end } => wire::RequestOp::Delete(wire::DeleteRequest {
                key: key.clone(),
                range_end: range_end.clone(),
            }),
            Op::Range(r) => wire::RequestOp::Range(r.to_wire()),
        }
    }
}

/// A transaction: if every compare holds, the `success` operations, else
/// the `failure` ones, atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    /// The conditions, all of which must hold.
    pub compares: Vec<Compare>,
    /// Done when they hold.
    pub success: Vec<Op>,
    /// Done when one does not.
    pub failure: Vec<Op>,
}

impl Txn {
    /// An empty transaction (it succeeds and does nothing).
    pub fn new() -> Txn {
        Txn::default()
    }

    /// Adds conditions.
    pub fn when(mut self, compares: impl IntoIterator<Item = Compare>) -> Txn {
        self.compares.extend(compares);
        self
    }

    /// Adds operations done when the conditions hold.
    pub fn and_then(mut self, ops: impl IntoIterator<Item = Op>) -> Txn {
        self.success.extend(ops);
        self
    }

    /// Adds operations done when a condition fails.
    pub fn or_else(mut self, ops: impl IntoIterator<Item = Op>) -> Txn {
        self.failure.extend(ops);
        self
    }
}

/// What one operation of a transaction answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResponse {
    /// A read's keys.
    Range(RangeResponse),
    /// A put was done.
    Put,
    /// A delete removed this many keys.
    Delete {
        /// Keys deleted.
        deleted: i64,
    },
}

/// What a transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnResponse {
    /// Whether the compares held (so the `success` branch ran).
    pub succeeded: bool,
    /// The store's revision after the transaction.
    pub revision: i64,
    /// One answer per operation of the branch that ran.
    pub responses: Vec<OpResponse>,
}

impl Client {
    /// Reads a range.
    pub fn range(&self, range: &Range) -> Result<RangeResponse> {
        let r: wire::RangeResponse = self.call("/kv/range", &range.to_wire(), Kind::Repeatable)?;
        Ok(r.into())
    }

    /// Reads one key.
    pub fn get(&self, key: impl Into<Vec<u8>>) -> Result<Option<KeyValue>> {
        Ok(self.range(&Range::key(key))?.kvs.into_iter().next())
    }

    /// Writes one key (no lease); returns the new revision.
    pub fn put(&self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Result<i64> {
        let request = wire::PutRequest {
            key: key.into(),
            value: value.into(),
            lease: 0,
        };
        let r: wire::PutResponse = self.call("/kv/put", &request, Kind::Change)?;
        Ok(r.header.revision)
    }

    /// Deletes every key starting with `prefix`; returns how many.
    pub fn delete_prefix(&self, prefix: impl Into<Vec<u8>>) -> Result<i64> {
        let key = prefix.into();
        let request = wire::DeleteRequest {
            range_end: prefix_end(&key),
            key,
        };
        let r: wire::DeleteResponse = self.call("/kv/deleterange", &request, Kind::Change)?;
        Ok(r.deleted)
    }

    /// Runs a transaction. etcd refuses one with more than 128 operations
    /// in a branch (or compares) or over 1.5 MiB, by default
    /// ([`Error::Etcd`] with code 3).
    pub fn txn(&self, txn: &Txn) -> Result<TxnResponse> {
        let request = wire::TxnRequest {
            compare: txn.compares.iter().map(Compare::to_wire).collect(),
            success: txn.success.iter().map(Op::to_wire).collect(),
            failure: txn.failure.iter().map(Op::to_wire).collect(),
        };
        let r: wire::TxnResponse = self.call("/kv/txn", &request, Kind::Change)?;
        let ran = if r.succeeded {
            &txn.success
        } else {
            &txn.failure
        };
        if r.responses.len() != ran.len() {
            return Err(Error::BadResponse {
                endpoint: "etcd".into(),
                detail: format!(
                    "transaction answered {} operations of {}",
                    r.responses.len(),
                    ran.len()
                ),
            });
        }
        let mut responses = Vec::with_capacity(r.responses.len());
        for op in r.responses {
            responses.push(if let Some(range) = op.response_range {
                OpResponse::Range(range.into())
            } else if let Some(delete) = op.response_delete_range {
                OpResponse::Delete {
                    deleted: delete.deleted,
                }
            } else if op.response_put.is_some() {
                OpResponse::Put
            } else {
                return Err(Error::BadResponse {
                    endpoint: "etcd".into(),
                    detail: "a transaction answer of no known kind".into(),
                });
            });
        }
        Ok(TxnResponse {
            succeeded: r.succeeded,
            revision: r.header.revision,
            responses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_key_after_every_key_with_the_prefix() {
        assert_eq!(prefix_end(b"a/"), b"a0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
        assert_eq!(prefix_end(b""), vec![0]);
    }

    #[test]
    fn compares_are_spelled_as_the_gateway_reads_them() {
        let c = Compare::mod_revision("k", Cmp::Equal, 42).to_wire();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"key":"aw==","result":"EQUAL","target":"MOD","mod_revision":"42"}"#
        );
        let c = Compare::value("k", Cmp::NotEqual, "v").to_wire();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"key":"aw==","result":"NOT_EQUAL","target":"VALUE","value":"dg=="}"#
        );
    }

    #[test]
    fn ops_are_spelled_as_the_gateway_reads_them() {
        let json = serde_json::to_string(&Op::put_with_lease("k", "v", 7).to_wire()).unwrap();
        assert_eq!(
            json,
            r#"{"request_put":{"key":"aw==","value":"dg==","lease":"7"}}"#
        );
        let json = serde_json::to_string(&Op::delete_prefix("a/").to_wire()).unwrap();
        assert_eq!(
            json,
            r#"{"request_delete_range":{"key":"YS8=","range_end":"YTA="}}"#
        );
    }
}
