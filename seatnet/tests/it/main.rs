//! Integration tests: a real `Server` on 127.0.0.1 port 0 for each test,
//! real TCP clients, every read under a timeout.
//!
//! - `support`: starting and stopping servers, clients of both kinds;
//! - `original`: byte-exact compatibility with the original client;
//! - `framing`: newline lines, pipelining, line mode;
//! - `grace`: lines written in pieces before the connection's kind is known;
//! - `errors`: every bad input gets a clear error, the connection goes on;
//! - `commands`: BOOK, ALL, ANY, TOGETHER, CANCEL, AVAIL, STATS, HELP, QUIT;
//! - `concurrency`: many clients racing, no seat granted twice;
//! - `limits`: over-long lines, idle timeout, busy, queueing;
//! - `bounded`: the per-request seat cap, runs in bookings and replies,
//!   `AVAIL`'s cap, original requests granted a word at a time;
//! - `maps`: many maps, `USE`, `MAPS`, `--map`, `--config`, maps on disk;
//! - `mapops`: the operator's `ADDMAP` and `REMOVEMAP`, in memory and on disk;
//! - `holds`: HOLD, EXTEND, CONFIRM, expiry by a manual clock, races,
//!   many clients on many maps, restarts;
//! - `durable`: `--data-dir` restarts, its errors, `kill -9` of the binary;
//! - `operator`: `--admin-listen`, `SNAPSHOT`, `BACKUP`, `--check-data`'s
//!   counts, data directories that cannot be used;
//! - `shutdown`: the library handle and the binary's SIGTERM;
//! - `properties`: proptest over the number reader, replies and framing;
//! - `python_parity`: the number and request readers against `python3`;
//! - `processes`: the real binaries as child processes;
//! - `fakes`: hand-written peers (the original's wire behaviour, a liar);
//! - `cluster`: `--etcd`, two nodes on real etcd members: `ERR moved`,
//!   `NODES`, `MAPS` with owners, `seatnet-client` following `ERR moved`,
//!   a killed node's maps served by another, a frozen node granting
//!   nothing when it wakes;
//! - `careful_client`: clients that follow `ERR moved` and retry with their
//!   request ids, and the checks of what they were told (cluster tests);
//! - `cluster_failover`: the journal through etcd end to end: acknowledged
//!   changes survive `kill -9` of their owner under load, etcd members
//!   killed and restarted, and a node cut off from etcd;
//! - `client_cli`: `seatnet-client` against a fake original server and the
//!   real `seatnet-server`;
//! - `bench_cli`: short, bounded `seatnet-bench` runs and its double-grant
//!   check.
//!
//! One test binary, so the crate and its dependencies are linked once.

mod bench_cli;
mod bounded;
mod careful_client;
mod client_cli;
mod cluster;
mod cluster_failover;
mod commands;
mod concurrency;
mod durable;
mod errors;
mod fakes;
mod framing;
mod grace;
mod holds;
mod limits;
mod mapops;
mod maps;
mod operator;
mod original;
mod processes;
mod properties;
mod python_parity;
mod shutdown;
mod support;
