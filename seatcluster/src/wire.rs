//! The JSON shapes of the etcd v3 gateway (grpc-gateway over etcd's
//! protobuf API): keys and values are base64, 64-bit integers are decimal
//! strings (lease ids exceed what a JSON number holds exactly), and fields
//! equal to their zero value are left out of answers.

use serde::{Deserialize, Serialize};

/// `Vec<u8>` as standard base64.
pub(crate) mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// `i64` written as a decimal string, read from a string or a number.
pub(crate) mod int {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Number(i64),
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Either::deserialize(d)? {
            Either::Number(n) => Ok(n),
            Either::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Header {
    #[serde(default, with = "int")]
    pub(crate) revision: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct RangeRequest {
    #[serde(with = "b64")]
    pub(crate) key: Vec<u8>,
    #[serde(with = "b64", skip_serializing_if = "Vec::is_empty")]
    pub(crate) range_end: Vec<u8>,
    #[serde(with = "int", skip_serializing_if = "is_zero")]
    pub(crate) limit: i64,
    #[serde(with = "int", skip_serializing_if = "is_zero")]
    pub(crate) revision: i64,
    #[serde(skip_serializing_if = "is_false")]
    pub(crate) keys_only: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct KeyValue {
    #[serde(default, with = "b64")]
    pub(crate) key: Vec<u8>,
    #[serde(default, with = "b64")]
    pub(crate) value: Vec<u8>,
    #[serde(default, with = "int")]
    pub(crate) create_revision: i64,
    #[serde(default, with = "int")]
    pub(crate) mod_revision: i64,
    #[serde(default, with = "int")]
    pub(crate) version: i64,
    #[serde(default, with = "int")]
    pub(crate) lease: i64,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RangeResponse {
    #[serde(default)]
    pub(crate) header: Header,
    #[serde(default)]
    pub(crate) kvs: Vec<KeyValue>,
    #[serde(default)]
    pub(crate) more: bool,
    #[serde(default, with = "int")]
    pub(crate) count: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct PutRequest {
    #[serde(with = "b64")]
    pub(crate) key: Vec<u8>,
    #[serde(with = "b64")]
    pub(crate) value: Vec<u8>,
    #[serde(with = "int", skip_serializing_if = "is_zero")]
    pub(crate) lease: i64,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PutResponse {
    #[serde(default)]
    pub(crate) header: Header,
}

#[derive(Debug, Serialize)]
pub(crate) struct DeleteRequest {
    #[serde(with = "b64")]
    pub(crate) key: Vec<u8>,
    #[serde(with = "b64", skip_serializing_if = "Vec::is_empty")]
    pub(crate) range_end: Vec<u8>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DeleteResponse {
    #[serde(default, with = "int")]
    pub(crate) deleted: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct Compare {
    #[serde(with = "b64")]
    pub(crate) key: Vec<u8>,
    pub(crate) result: &'static str,
    pub(crate) target: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) create_revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mod_revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lease: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) enum RequestOp {
    #[serde(rename = "request_range")]
    Range(RangeRequest),
    #[serde(rename = "request_put")]
    Put(PutRequest),
    #[serde(rename = "request_delete_range")]
    Delete(DeleteRequest),
}

#[derive(Debug, Serialize)]
pub(crate) struct TxnRequest {
    pub(crate) compare: Vec<Compare>,
    pub(crate) success: Vec<RequestOp>,
    pub(crate) failure: Vec<RequestOp>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseOp {
    pub(crate) response_range: Option<RangeResponse>,
    pub(crate) response_put: Option<PutResponse>,
    pub(crate) response_delete_range: Option<DeleteResponse>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TxnResponse {
    #[serde(default)]
    pub(crate) header: Header,
    #[serde(default)]
    pub(crate) succeeded: bool,
    #[serde(default)]
    pub(crate) responses: Vec<ResponseOp>,
}

#[derive(Debug, Serialize)]
#[allow(non_snake_case)] // the gateway's field names
pub(crate) struct LeaseGrantRequest {
    #[serde(with = "int")]
    pub(crate) TTL: i64,
}

#[derive(Debug, Serialize)]
#[allow(non_snake_case)]
pub(crate) struct LeaseIdRequest {
    #[serde(with = "int")]
    pub(crate) ID: i64,
}

#[derive(Debug, Default, Deserialize)]
#[allow(non_snake_case)]
pub(crate) struct LeaseResponse {
    #[serde(default, with = "int")]
    pub(crate) ID: i64,
    #[serde(default, with = "int")]
    pub(crate) TTL: i64,
    #[serde(default)]
    pub(crate) error: String,
}

/// One message of the keep-alive stream.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct KeepAliveMessage {
    pub(crate) result: Option<LeaseResponse>,
    pub(crate) error: Option<ErrorBody>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Empty {}

/// What the gateway sends with a non-200 status.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) error: String,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) code: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_come_as_strings_or_numbers_and_zeros_are_left_out() {
        let line = br#"{"result":{"header":{"revision":"3"},"ID":"7100666014694925828"}}"#;
        let msg: KeepAliveMessage = serde_json::from_slice(line).unwrap();
        let r = msg.result.unwrap();
        assert_eq!((r.ID, r.TTL), (7100666014694925828, 0));
        let kv: KeyValue =
            serde_json::from_slice(br#"{"key":"Zm9v","mod_revision":12,"version":"1"}"#).unwrap();
        assert_eq!(kv.key, b"foo");
        assert_eq!((kv.mod_revision, kv.version, kv.lease), (12, 1, 0));
        assert!(kv.value.is_empty());
        let txn: TxnResponse = serde_json::from_slice(br#"{"header":{"revision":"4"}}"#).unwrap();
        assert!(!txn.succeeded && txn.responses.is_empty());
        assert!(serde_json::from_slice::<KeyValue>(br#"{"key":"!!"}"#).is_err());
        assert!(serde_json::from_slice::<KeyValue>(br#"{"version":"x"}"#).is_err());
    }
}
