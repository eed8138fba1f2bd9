//! Who owns a map: a key per map, attached to the owner's lease, created
//! only if absent (one transaction), so at most one node holds it at any
//! revision, and it disappears when the owner's lease does.
//!
//! The revision at which a node created the key is its fencing token:
//! every later write of the owner compares the key's mod revision with it
//! in the same transaction ([`Cluster::commit_batch`]), so once the key
//! has expired or belongs to someone else, nothing the old owner sends can
//! commit, however late it arrives.

use crate::cluster::{Cluster, check_map_name};
use crate::error::{Error, Result};
use crate::kv::{Cmp, Compare, KeyValue, Op, Range, Txn};
use crate::lease::Lease;

/// Proof of ownership of a map, as of the revision that took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    /// The map.
    pub map: String,
    /// The owner key's mod revision when this node wrote it: the fencing
    /// token.
    pub mod_revision: i64,
    /// The lease the owner key is attached to.
    pub lease: i64,
}

/// Who holds a map's owner key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// What the holder wrote (seatnet: its node name and address).
    pub value: Vec<u8>,
    /// The key's mod revision.
    pub mod_revision: i64,
    /// The holder's lease.
    pub lease: i64,
}

impl Owner {
    fn from_kv(kv: KeyValue) -> Owner {
        Owner {
            value: kv.value,
            mod_revision: kv.mod_revision,
            lease: kv.lease,
        }
    }
}

/// What [`Cluster::try_acquire`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquire {
    /// The map is ours now.
    Owned(Ownership),
    /// Somebody holds it (perhaps this node, under the same lease: then
    /// [`Owner::lease`] is ours and [`Ownership`] can be rebuilt from it).
    Taken(Owner),
}

impl Cluster {
    /// Takes `map` for the holder of `lease` if nobody holds it, writing
    /// `node` (what other nodes will read as the owner) to its owner key.
    pub fn try_acquire(&self, map: &str, node: &[u8], lease: &Lease) -> Result<Acquire> {
        check_map_name(map)?;
        let key = self.owner_key(map);
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), Cmp::Equal, 0)])
            .and_then([Op::put_with_lease(key.clone(), node, lease.id)])
            .or_else([Op::get(Range::key(key))]);
        let r = self.client().txn(&txn)?;
        if r.succeeded {
            // A transaction is one revision: the put's mod revision.
            return Ok(Acquire::Owned(Ownership {
                map: map.to_string(),
                mod_revision: r.revision,
                lease: lease.id,
            }));
        }
        match r.responses.into_iter().next() {
            Some(crate::kv::OpResponse::Range(range)) => match range.kvs.into_iter().next() {
                Some(kv) => Ok(Acquire::Taken(Owner::from_kv(kv))),
                None => Err(bad("owner key neither absent nor present")),
            },
            _ => Err(bad("owner read missing from a failed acquire")),
        }
    }

    /// Gives `map` up (deletes its owner key) if `ownership` still holds;
    /// returns whether it did.
    pub fn release(&self, ownership: &Ownership) -> Result<bool> {
        let key = self.owner_key(&ownership.map);
        let txn = Txn::new()
            .when([Compare::mod_revision(
                key.clone(),
                Cmp::Equal,
                ownership.mod_revision,
            )])
            .and_then([Op::delete(key)]);
        Ok(self.client().txn(&txn)?.succeeded)
    }

    /// Who holds `map`, if anyone.
    pub fn owner(&self, map: &str) -> Result<Option<Owner>> {
        check_map_name(map)?;
        Ok(self.client().get(self.owner_key(map))?.map(Owner::from_kv))
    }

    /// Every held map and its owner, in name order, at most `max` (more
    /// is an error, so a caller's memory stays bounded).
    pub fn owners(&self, max: usize) -> Result<Vec<(String, Owner)>> {
        let owned = self.scan_prefix(&self.owner_prefix(), max, "owned maps")?;
        Ok(owned
            .into_iter()
            .map(|(map, kv)| (map, Owner::from_kv(kv)))
            .collect())
    }
}

impl Owner {
    /// This node's [`Ownership`] of `map`, if the key is held under
    /// `lease` (a node that lost track of its ownership, for example after
    /// an [`Error::Indeterminate`] acquire, takes it back this way).
    pub fn as_ours(&self, map: &str, lease: &Lease) -> Option<Ownership> {
        (self.lease == lease.id).then(|| Ownership {
            map: map.to_string(),
            mod_revision: self.mod_revision,
            lease: lease.id,
        })
    }
}

fn bad(detail: &str) -> Error {
    Error::BadResponse {
        endpoint: "etcd".into(),
        detail: detail.into(),
    }
}
