//! Many maps in one server: `--map`, `--config`, `USE`, `MAPS`, maps that
//! never block one another, and a data directory of many maps across
//! restarts.

use seatnet::{Config, DataOptions, MapDef, Server};

use crate::processes::ServerProcess;
use crate::support::{TempDir, TestServer, reference};

/// Map definitions from `NAME=SPEC` texts.
pub(crate) fn defs(list: &[&str]) -> Vec<MapDef> {
    list.iter().map(|d| d.parse().unwrap()).collect()
}

pub(crate) fn maps_config(list: &[&str]) -> Config {
    Config {
        threads: 4,
        maps: defs(list),
        ..Config::default()
    }
}

pub(crate) fn durable_maps(dir: &TempDir, list: &[&str]) -> Config {
    Config {
        data_dir: Some(dir.0.clone()),
        data: DataOptions {
            segment_size: 2 << 20,
            ..DataOptions::default()
        },
        ..maps_config(list)
    }
}

#[test]
fn use_and_maps_over_tcp_and_a_connection_without_use_is_on_default() {
    let server = TestServer::start(maps_config(&["SHOW1=50", "AB123=30x3-3"]));
    let mut original = server.original_client();
    assert_eq!(
        original.ask("1,2"),
        "Reservados: [1, 2] | Indisponíveis/Inválidos: []"
    );
    let mut c = server.line_client();
    assert_eq!(
        c.ask("MAPS"),
        "OK maps=3 AB123:30x3-3:180:180 SHOW1:50:50:50 default:100:100:98"
    );
    assert_eq!(
        c.ask("USE SHOW1"),
        "OK using SHOW1 spec=50 seats=50 free=50"
    );
    assert_eq!(
        c.ask("1,2,3"),
        "Reservados: [1, 2, 3] | Indisponíveis/Inválidos: []"
    );
    let booked = c.ask("ALL 10,11");
    let r = reference(&booked);
    assert!(c.ask("AVAIL").starts_with("OK free=45 total=50"));
    // Another connection on default does not see SHOW1's seats or bookings.
    let mut d = server.line_client();
    assert!(d.ask("AVAIL").starts_with("OK free=98 total=100"));
    assert_eq!(
        d.ask(&format!("SHOW {r}")),
        format!("ERR unknown-booking: {r}")
    );
    assert_eq!(
        original.ask("3"),
        "Reservados: [3] | Indisponíveis/Inválidos: []"
    );
    assert_eq!(c.ask(&format!("SHOW {r}")), "OK booked seats=10-11");
    assert_eq!(
        c.ask("USE nope"),
        "ERR unknown-map: nope (MAPS lists the maps)"
    );
    assert_eq!(
        c.ask("USE default"),
        "OK using default spec=100 seats=100 free=97"
    );
    assert_eq!(
        c.ask(&format!("CANCEL {r}")),
        format!("ERR unknown-booking: {r}")
    );
}

#[test]
fn request_ids_are_per_map() {
    let server = TestServer::start(maps_config(&["S=20"]));
    let mut c = server.line_client();
    let first = c.ask("ANY 2 id=same");
    assert_eq!(c.ask("ANY 2 id=same"), first, "a retry on one map");
    c.ask("USE S");
    let other = c.ask("ANY 2 id=same");
    assert!(other.starts_with("OK "), "{other}");
    assert_ne!(reference(&other), reference(&first), "a new change on S");
    assert!(c.ask("AVAIL").starts_with("OK free=18 total=20"));
}

#[test]
fn bad_maps_are_clear_errors() {
    for (maps, seats, wanted) in [
        (vec!["default=20"], 50, "--seats 50"),
        (vec!["A=10", "A=20"], 100, "twice"),
    ] {
        let err = Server::bind(Config {
            port: 0,
            seats,
            ..maps_config(&maps)
        })
        .unwrap_err();
        assert!(err.to_string().contains(wanted), "{err}");
    }
    for bad in [
        "bad name=10",
        "A=30x3-0",
        "A",
        "A=0",
        &format!("{}=1", "n".repeat(33)),
    ] {
        assert!(bad.parse::<MapDef>().is_err(), "{bad}");
    }
    // The binary: both --seats and --map default, a bad --map.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--port", "0", "--seats", "5", "--map", "default=10"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--seats 5 and a map named default"), "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--port", "0", "--map", "x y=10"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a map name"));
}

#[test]
fn the_binary_takes_maps_from_the_command_line_and_a_config_file() {
    let dir = TempDir::new("config");
    let file = dir.0.join("seatnet.toml");
    std::fs::write(
        &file,
        "threads = 2\nseats = 30\n[maps]\nAB = \"2x2-2\"\nS = \"40\"\n",
    )
    .unwrap();
    let server = ServerProcess::start(&[
        "--config",
        file.to_str().unwrap(),
        "--map",
        "S=60",
        "--map",
        "T=5",
    ]);
    assert!(
        server
            .first_line
            .contains("(30 seats in map default, 4 maps, 2 workers"),
        "{}",
        server.first_line
    );
    let mut c = crate::support::LineClient::connect(server.addr);
    assert_eq!(
        c.ask("MAPS"),
        "OK maps=4 AB:2x2-2:8:8 S:60:60:60 T:5:5:5 default:30:30:30"
    );
    std::fs::write(&file, "[maps]\ndefault = \"9\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args([
            "--port",
            "0",
            "--seats",
            "7",
            "--config",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    std::fs::write(&file, "prot = 5\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--port", "0", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("prot"));
}

#[test]
fn traffic_on_one_map_never_waits_for_another() {
    // One connection holds a request of map A half-sent (no newline yet:
    // the poller holds it, no worker, no lock); every other map answers.
    let list: Vec<String> = (0..20).map(|i| format!("M{i}=64")).collect();
    let list: Vec<&str> = list.iter().map(String::as_str).collect();
    let server = TestServer::start(maps_config(&list));
    let mut stalled = server.line_client();
    stalled.ask("USE M0");
    stalled.send(b"BOOK 1,2");
    let clients: Vec<_> = (1..20)
        .map(|i| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = crate::support::LineClient::connect(addr);
                c.ask(&format!("USE M{i}"));
                (0..16)
                    .map(|k| c.ask(&format!("ALL {}", 4 * k + 1)))
                    .filter(|r| r.starts_with("OK "))
                    .count()
            })
        })
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), 16);
    }
    stalled.send(b",3\n");
    assert!(stalled.line().ends_with("reserved=1,2,3 taken=- invalid=-"));
}

#[test]
fn a_data_directory_keeps_every_map_and_refuses_another_spec() {
    let dir = TempDir::new("durable");
    let mut server = TestServer::start(durable_maps(&dir, &["S=20", "AB=3x2-2"]));
    let mut c = server.line_client();
    c.ask("USE S");
    let s_booking = c.ask("ALL 5,6 id=k1");
    assert_eq!(c.ask("1"), "Reservados: [1] | Indisponíveis/Inválidos: []");
    let mut d = server.line_client();
    let default_booking = d.ask("BOOK 7");
    server.shutdown().unwrap();
    drop(server);

    // Restart with S again and a new map T; AB is not named but kept.
    let server = TestServer::start(durable_maps(&dir, &["S=20", "T=9"]));
    let mut c = server.line_client();
    assert_eq!(
        c.ask("MAPS"),
        "OK maps=4 AB:3x2-2:12:12 S:20:20:17 T:9:9:9 default:100:100:99"
    );
    c.ask("USE S");
    assert_eq!(
        c.ask("ALL 5,6 id=k1"),
        s_booking,
        "the id is remembered on S"
    );
    assert_eq!(
        c.ask(&format!("SHOW {}", reference(&s_booking))),
        "OK booked seats=5-6"
    );
    c.ask("USE default");
    assert_eq!(
        c.ask(&format!("SHOW {}", reference(&default_booking))),
        "OK booked seats=7"
    );
    c.ask("USE T");
    let t_booking = c.ask("ANY 3");
    drop(c);
    drop(server);

    // A crash-free restart replays T's records (snapshot or journal).
    let server = TestServer::start(durable_maps(&dir, &[]));
    let mut c = server.line_client();
    c.ask("USE T");
    assert!(
        c.ask(&format!("SHOW {}", reference(&t_booking)))
            .starts_with("OK booked seats=")
    );
    drop(c);
    drop(server);

    let err = Server::bind(Config {
        port: 0,
        ..durable_maps(&dir, &["S=21"])
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("holds map 'S' as 20, but the command line says S=21"),
        "{err}"
    );
    let err = Server::bind(Config {
        port: 0,
        ..durable_maps(&dir, &["default=2x2-2"])
    })
    .unwrap_err();
    assert!(err.to_string().contains("\"seats=100\""), "{err}");
}

#[test]
fn a_cabin_map_speaks_labels_in_every_command_and_reply() {
    let server = TestServer::start(maps_config(&["AB=3x3-3"]));
    let mut c = server.line_client();
    c.ask("USE AB");
    assert_eq!(
        c.ask("1a,1B,12A,0A,5, 1a ,1Z,1I"),
        "Reservados: ['1A', '1B'] | Indisponíveis/Inválidos: ['12A', '0A', '5', '1A', '1Z', '1I']"
    );
    let book = c.ask("BOOK 2A-2C,1A,4A");
    assert!(
        book.ends_with(" reserved=2A,2B,2C taken=1A invalid=4A"),
        "{book}"
    );
    let r = reference(&book);
    assert_eq!(c.ask(&format!("SHOW {r}")), "OK booked seats=2A-2C");
    assert_eq!(
        c.ask("ALL 3A,31A"),
        "ERR invalid-seat: 31A (seats are 1A..3F, a row then a letter)"
    );
    assert_eq!(c.ask("ALL 3A,1a"), "ERR conflict: taken=1A");
    assert_eq!(c.ask("ALL 3A,3a"), "ERR duplicate-seat: 3A");
    assert_eq!(
        c.ask("ALL 7"),
        "ERR invalid-seat: 7 (seats are 1A..3F, a row then a letter)"
    );
    assert_eq!(
        c.ask("AVAIL"),
        "OK free=13 total=18 seats=1C-1F,2D-2F,3A-3F"
    );
    // TOGETHER: 3 fit in row 1's right group, the front-most (1C is
    // stranded already: no choice can help it).
    let t = c.ask("TOGETHER 3");
    assert!(t.ends_with(" seats=1D-1F"), "{t}");
    assert!(!t.contains("split"), "{t}");
    // 4 cannot sit in one group of 3: two rows, split=2.
    let t4 = c.ask("TOGETHER 4");
    assert!(t4.ends_with(" split=2"), "{t4}");
    assert_eq!(
        c.ask("TOGETHER 101"),
        "ERR too-many-seats: TOGETHER may ask for at most 100 seats at once, not 101"
    );
    assert!(
        c.ask("TOGETHER 9")
            .starts_with("ERR not-enough: no 9 adjacent free seats")
    );
    assert_eq!(
        c.ask(&format!("CANCEL {r}")),
        format!("OK cancelled {r} seats=2A-2C")
    );
    // The original-protocol client on the default map is untouched.
    let mut o = server.original_client();
    assert_eq!(
        o.ask("1,1"),
        "Reservados: [1] | Indisponíveis/Inválidos: [1]"
    );
}

#[test]
fn the_client_holds_confirms_lists_and_draws_maps() {
    use crate::client_cli::client;
    use crate::processes::{stderr, stdout};
    let server = ServerProcess::start(&["--map", "AB=3x3-3", "--map", "S=30"]);
    let port = server.port();
    let out = client(port, &["--map", "AB", "hold", "together", "3"], "");
    let held = stdout(&out);
    assert!(out.status.success(), "{held} {}", stderr(&out));
    assert!(
        held.starts_with("OK ") && held.contains(" seats=1A-1C expires="),
        "{held}"
    );
    let r = reference(held.trim_end());
    let out = client(port, &["--map", "AB", "confirm", &r], "");
    assert_eq!(stdout(&out), format!("OK confirmed {r} seats=1A-1C\n"));
    let out = client(port, &["--map", "AB", "hold", "2a,2B"], "");
    assert!(
        stdout(&out).contains(" seats=2A-2B expires="),
        "{}",
        stdout(&out)
    );
    let hold = reference(stdout(&out).trim_end());
    let out = client(port, &["--map", "AB", "extend", &hold], "");
    assert!(stdout(&out).starts_with(&format!("OK extended {hold} ")));
    let out = client(port, &["--map", "AB", "show", &hold], "");
    assert!(stdout(&out).starts_with("OK held seats=2A-2B expires="));
    let out = client(port, &["--map", "AB", "confirm", "nope"], "");
    assert_eq!(out.status.code(), Some(1));
    let out = client(port, &["--map", "nowhere", "avail"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("ERR unknown-map"), "{}", stderr(&out));
    let out = client(port, &["maps"], "");
    assert_eq!(
        stdout(&out),
        "OK maps=3 AB:3x3-3:18:13 S:30:30:30 default:100:100:100\n"
    );
    // The drawing: plain characters (stdout is a pipe here).
    let out = client(port, &["map", "AB"], "");
    let drawing = stdout(&out);
    assert!(out.status.success());
    assert!(drawing.starts_with("map AB (3x3-3)\n"), "{drawing}");
    assert!(
        drawing.contains("13 of 18 seats free (2 held, 3 taken)"),
        "{drawing}"
    );
    assert!(!drawing.contains('\u{1b}'), "no colour into a pipe");
    let out = client(port, &["--map", "S", "map"], "");
    assert!(stdout(&out).starts_with("map S (30)\n"), "{}", stdout(&out));
    // Interactive: the map after every change, when asked.
    let out = client(
        port,
        &["--map", "AB", "--show-map"],
        "HOLD 3A\nAVAIL\nsair\n",
    );
    let text = stdout(&out);
    assert_eq!(text.matches("map AB (3x3-3)").count(), 1, "{text}");
    assert!(text.contains("12 of 18 seats free"), "{text}");
}

#[test]
fn map_gives_everything_to_draw_in_one_bounded_reply() {
    let server = TestServer::start(maps_config(&["AB=3x3-3", "BIG=1000000"]));
    let mut c = server.line_client();
    c.ask("USE AB");
    assert!(c.ask("HOLD 1A").starts_with("OK "));
    assert!(c.ask("ALL 1C").starts_with("OK "));
    assert_eq!(
        c.ask("map"),
        "OK map AB spec=3x3-3 seats=18 free=16 held=1 drawn=18 states=H1F1T1F15"
    );
    assert_eq!(
        c.ask("MAP default"),
        "OK map default spec=100 seats=100 free=100 held=0 drawn=100 states=F100"
    );
    let odd: Vec<String> = (0..500).map(|i| (2 * i + 1).to_string()).collect();
    c.ask("USE BIG");
    c.ask(&odd.join(","));
    let big = c.ask("MAP BIG");
    assert!(
        big.starts_with(
            "OK map BIG spec=1000000 seats=1000000 free=999500 held=0 drawn=25000 states=T1F1T1"
        ),
        "{}",
        &big[..80]
    );
    assert!(big.len() < 2 * 25_000 + 200, "{}", big.len());
    assert_eq!(
        c.ask("MAP nope"),
        "ERR unknown-map: nope (MAPS lists the maps)"
    );
    assert!(c.ask("MAP a b").starts_with("ERR bad-request"));
}
