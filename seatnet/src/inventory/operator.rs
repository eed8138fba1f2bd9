//! Operator commands ([`Operator`]): maintenance of the data directory,
//! run only on connections accepted on `--admin-listen` (the connection's
//! [`Access`](super::Access) is checked in `respond`, before this runs).
//!
//! A new operator command is one arm here (and its variant in the parser).

use std::path::Path;

use super::Inventory;
use crate::protocol::{Operator, Reply};

impl Inventory {
    /// Runs `op` and says what to answer; `text` is scratch space the reply
    /// may borrow from. Runs on the worker that read it, which it holds
    /// meanwhile (a backup takes as long as copying the directory).
    pub(super) fn operate<'a>(&'a self, op: Operator<'_>, text: &'a mut String) -> Reply<'a> {
        let Some(d) = &self.durable else {
            return Reply::NotDurable(op.verb());
        };
        if d.journal.disk().is_none() {
            return Reply::OperatorFailed {
                code: "not-in-cluster",
                why: "a cluster node keeps its maps in etcd, which snapshots them itself; back up etcd with etcdctl snapshot save",
            };
        }
        match op {
            Operator::Snapshot => match d.snapshot_now() {
                Ok(seq) => {
                    *text = seatlog::format::snapshot_name(seq);
                    Reply::Snapshot { seq, file: text }
                }
                Err(e) => {
                    *text = e.to_string();
                    Reply::OperatorFailed {
                        code: "snapshot-failed",
                        why: text,
                    }
                }
            },
            Operator::Backup(dir) => match backup_into(d.journal.disk(), Path::new(dir)) {
                Ok(()) => {
                    *text = dir.escape_default().to_string();
                    Reply::BackedUp(text)
                }
                Err(why) => {
                    *text = why;
                    Reply::OperatorFailed {
                        code: "backup-failed",
                        why: text,
                    }
                }
            },
        }
    }
}

/// Copies the live journal's directory into `dest`, which must not exist
/// or be an empty directory (so a backup never mixes with other files, and
/// never overwrites one).
fn backup_into(journal: Option<&seatlog::Journal>, dest: &Path) -> Result<(), String> {
    let Some(journal) = journal else {
        return Err("no journal on disk".into());
    };
    let shown = dest.display().to_string().escape_default().to_string();
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "{shown} is not empty; back up into a new or empty directory"
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot use {shown}: {e}")),
    }
    journal.backup_to(dest).map_err(|e| e.to_string())
}
