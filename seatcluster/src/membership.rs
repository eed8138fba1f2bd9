//! Live nodes, and which node should take a map that has no owner.
//!
//! A node registers `<root>node/<name>` under its lease, so the list of
//! live nodes is the list of those keys. For a map without an owner,
//! [`rank`] orders the live nodes by rendezvous (highest random weight)
//! hashing of (map, node): every node computes the same order from the
//! same list, the first in rank tries at once and the others later
//! (`docs/cluster.md`, "Ownership"), maps spread evenly, and when a node
//! joins or leaves only the maps it ranks first change their first choice.
//!
//! The hash is written here (FNV-1a, then a 64-bit finalizer) rather than
//! taken from `std`: every node must compute the same weights whatever
//! Rust release built it, and `std`'s `DefaultHasher` promises no such
//! stability.

use crate::cluster::{Cluster, check_map_name};
use crate::error::{Error, Result};
use crate::kv::{Op, Txn};
use crate::lease::Lease;

impl Cluster {
    /// Registers this node as live under `lease`, with what other nodes
    /// and clients need to reach it (its advertised `host:port`).
    pub fn register_node(&self, name: &str, advertise: &str, lease: &Lease) -> Result<()> {
        check_map_name(name).map_err(|_| {
            Error::Invalid(format!(
                "node name {name:?}: 1 to {} bytes, without '/', spaces or control characters",
                crate::MAX_MAP_NAME
            ))
        })?;
        let txn =
            Txn::new().and_then([Op::put_with_lease(self.node_key(name), advertise, lease.id)]);
        self.client().txn(&txn)?;
        Ok(())
    }

    /// The live nodes and their advertised addresses, in name order, at
    /// most `max` (more is an error, so memory stays bounded).
    pub fn nodes(&self, max: usize) -> Result<Vec<(String, String)>> {
        let nodes = self.scan_prefix(&self.node_prefix(), max, "live nodes")?;
        Ok(nodes
            .into_iter()
            .map(|(name, kv)| (name, String::from_utf8_lossy(&kv.value).into_owned()))
            .collect())
    }
}

/// The weight of `node` for `map`: the highest weight ranks first.
pub fn weight(map: &str, node: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    // A 0 byte between the names, so ("ab", "c") and ("a", "bc") differ.
    for &b in map.as_bytes().iter().chain(&[0]).chain(node.as_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    // FNV's low bits mix poorly; a finalizer (MurmurHash3's fmix64)
    // spreads every input bit over the whole word.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// `nodes` in the order they should try to take `map`: highest weight
/// first, ties (which need a 64-bit collision) broken by name.
pub fn rank<'a>(map: &str, nodes: &[&'a str]) -> Vec<&'a str> {
    let mut ranked: Vec<(u64, &'a str)> = nodes.iter().map(|n| (weight(map, n), *n)).collect();
    ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    ranked.into_iter().map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("map{i}")).collect()
    }

    #[test]
    fn every_node_ranks_once_and_the_order_is_the_same_from_any_list_order() {
        let a = rank("AB123", &["n1", "n2", "n3"]);
        let b = rank("AB123", &["n3", "n1", "n2"]);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["n1", "n2", "n3"]);
        assert!(rank("m", &[]).is_empty());
    }

    /// Computed independently (a few lines of Python of the same steps).
    const PINNED_EMPTY: u64 = 0xb9034ad37056f5fb;
    const PINNED_DEFAULT_A: u64 = 0xcc3e189e7f40beb6;

    #[test]
    fn the_weights_do_not_change_between_builds() {
        // Pinned: a change here would make nodes of two builds disagree.
        assert_ne!(weight("ab", "c"), weight("a", "bc"));
        let pinned = [weight("", ""), weight("default", "node-a")];
        assert_eq!(pinned, [PINNED_EMPTY, PINNED_DEFAULT_A]);
    }

    #[test]
    fn maps_spread_evenly_over_the_nodes() {
        let nodes = ["node-a", "node-b", "node-c"];
        let mut firsts = [0usize; 3];
        for map in maps(3000) {
            let first = rank(&map, &nodes)[0];
            firsts[nodes.iter().position(|n| *n == first).unwrap()] += 1;
        }
        // 1,000 each on average; the hash is fixed, so this is not flaky.
        assert!(
            firsts.iter().all(|&f| (850..=1150).contains(&f)),
            "{firsts:?}"
        );
    }

    #[test]
    fn a_node_leaving_moves_only_the_maps_it_ranked_first() {
        let all = ["node-a", "node-b", "node-c", "node-d"];
        let without_c = ["node-a", "node-b", "node-d"];
        let mut moved = 0;
        for map in maps(2000) {
            let before = rank(&map, &all)[0];
            let after = rank(&map, &without_c)[0];
            if before == "node-c" {
                moved += 1;
            } else {
                assert_eq!(before, after, "{map}");
            }
        }
        assert!(moved > 0);
    }
}
