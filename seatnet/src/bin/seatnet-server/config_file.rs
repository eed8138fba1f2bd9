//! `--config FILE`: the maps, and optionally other settings, in TOML.
//!
//! ```toml
//! port = 12345
//! data_dir = "/var/lib/seatnet"
//! hold_ttl = 600
//!
//! [maps]
//! default = "100"
//! AB123 = "30x3-3"
//! SHOW1 = "5000"
//! ```
//!
//! A setting given on the command line wins over the file; a map named
//! both by `--map` and by the file takes the command line's spec.

use std::path::{Path, PathBuf};

use seatnet::MapDef;
use serde::Deserialize;

/// The file's settings; every one optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) seats: Option<u64>,
    pub(crate) threads: Option<u64>,
    pub(crate) max_conns: Option<u64>,
    pub(crate) max_seats_per_request: Option<u64>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) fsync: Option<String>,
    pub(crate) snapshot_every: Option<u64>,
    pub(crate) hold_ttl: Option<u64>,
    pub(crate) hold_max: Option<u64>,
    /// Map name → spec.
    #[serde(default)]
    pub(crate) maps: toml::Table,
}

impl ConfigFile {
    /// Reads and checks `path`.
    pub(crate) fn read(path: &Path) -> Result<ConfigFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("--config {}: {e}", path.display()))
    }

    /// The `[maps]` table as definitions, in name order.
    pub(crate) fn maps(&self) -> Result<Vec<MapDef>, String> {
        self.maps
            .iter()
            .map(|(name, spec)| {
                let spec = match spec {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(n) => n.to_string(),
                    other => {
                        return Err(format!(
                            "--config: map '{name}' has spec {other}, expected a string like \"30x3-3\" or \"5000\""
                        ));
                    }
                };
                format!("{name}={spec}")
                    .parse::<MapDef>()
                    .map_err(|e| format!("--config: {e}"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_maps_and_settings() {
        let file: ConfigFile =
            toml::from_str("port = 7\n[maps]\nAB = \"2x2-2\"\nS = 50\n").unwrap();
        assert_eq!(file.port, Some(7));
        let maps = file.maps().unwrap();
        assert_eq!(maps.len(), 2);
        assert_eq!(maps[1].spec().seats(), 50);
        assert!(toml::from_str::<ConfigFile>("prot = 7").is_err());
        let bad: ConfigFile = toml::from_str("[maps]\nAB = \"2x0\"\n").unwrap();
        assert!(bad.maps().is_err());
    }
}
