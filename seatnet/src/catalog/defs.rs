//! Map definitions: a name and a spec, from `--map NAME=SPEC`, a config
//! file or a data directory, and the rules for the map named `default`.

use std::fmt;

use seatplan::MapSpec;

use crate::inventory::DEFAULT_MAP;

/// Most characters of a map name.
pub const MAX_MAP_NAME: usize = 32;

/// One map to serve: its name and layout.
///
/// # Examples
///
/// ```
/// use seatnet::MapDef;
///
/// let def: MapDef = "AB123=30x3-3".parse()?;
/// assert_eq!((def.name(), def.spec().seats()), ("AB123", 180));
/// assert!("bad name=10".parse::<MapDef>().is_err());
/// assert!("A=30x3-0".parse::<MapDef>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapDef {
    name: String,
    spec: MapSpec,
}

impl MapDef {
    /// A map named `name` (checked by [`check_name`]) laid out as `spec`.
    ///
    /// # Errors
    ///
    /// What is wrong with the name.
    pub fn new(name: &str, spec: MapSpec) -> Result<MapDef, String> {
        check_name(name)?;
        Ok(MapDef {
            name: name.to_string(),
            spec,
        })
    }

    /// The original's map: `default`, `seats` numbered seats.
    #[must_use]
    pub fn numbered_default(seats: u64) -> MapDef {
        MapDef {
            name: DEFAULT_MAP.to_string(),
            spec: MapSpec::Numbered { seats },
        }
    }

    /// The map's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The map's layout.
    #[must_use]
    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }
}

impl std::str::FromStr for MapDef {
    type Err = String;

    /// `NAME=SPEC`, as `--map` takes it.
    fn from_str(text: &str) -> Result<MapDef, String> {
        let (name, spec) = text.split_once('=').ok_or_else(|| {
            format!("'{text}' is not NAME=SPEC (like AB123=30x3-3 or SHOW1=5000)")
        })?;
        let spec = spec
            .parse::<MapSpec>()
            .map_err(|e| format!("map '{name}': {e}"))?;
        MapDef::new(name, spec)
    }
}

impl fmt::Display for MapDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.spec)
    }
}

/// Checks a map name: 1 to [`MAX_MAP_NAME`] characters of `A-Z a-z 0-9 _
/// -` (names are case-sensitive).
///
/// # Errors
///
/// A message saying what is wrong.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = (1..=MAX_MAP_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a map name: 1 to {MAX_MAP_NAME} characters of A-Z a-z 0-9 _ -",
            name.escape_default()
        ))
    }
}

/// The maps a server starts with: `maps` (no name twice), plus `default`
/// as `default_seats` numbered seats unless `maps` defines it. The default
/// map comes first.
///
/// # Errors
///
/// A name given twice, or `default` defined by `maps` while
/// `default_seats` is not the original's 100 (the caller turns an explicit
/// `--seats` together with `--map default=...` into this error).
pub fn resolve_maps(default_seats: u64, maps: &[MapDef]) -> Result<Vec<MapDef>, String> {
    let mut out: Vec<MapDef> = Vec::with_capacity(maps.len() + 1);
    for def in maps {
        if out.iter().any(|d| d.name == def.name) {
            return Err(format!("map '{}' is defined twice", def.name));
        }
        out.push(def.clone());
    }
    match out.iter().position(|d| d.name == DEFAULT_MAP) {
        Some(_) if default_seats != crate::Config::DEFAULT_SEATS => {
            return Err(format!(
                "both --seats {default_seats} and --map {DEFAULT_MAP}=... say what the default map is; give one"
            ));
        }
        Some(i) => {
            let def = out.remove(i);
            out.insert(0, def);
        }
        None => out.insert(0, MapDef::numbered_default(default_seats)),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["a", "AB123", "x_y-z", &"n".repeat(MAX_MAP_NAME)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "a=b", "ü", "a:b", &"n".repeat(MAX_MAP_NAME + 1)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_map_comes_from_seats_or_from_a_map_not_both() {
        let ab: MapDef = "AB=2x2-2".parse().unwrap();
        let maps = resolve_maps(100, std::slice::from_ref(&ab)).unwrap();
        assert_eq!(maps[0], MapDef::numbered_default(100));
        assert_eq!(maps[1], ab);
        assert_eq!(resolve_maps(7, &[]).unwrap(), [MapDef::numbered_default(7)]);
        let d: MapDef = "default=3x1-1".parse().unwrap();
        let maps = resolve_maps(100, &[ab.clone(), d.clone()]).unwrap();
        assert_eq!(maps, [d.clone(), ab.clone()]);
        let both = resolve_maps(50, &[d]).unwrap_err();
        assert!(both.contains("--seats 50"), "{both}");
        let twice = resolve_maps(100, &[ab.clone(), ab]).unwrap_err();
        assert!(twice.contains("twice"), "{twice}");
    }
}
