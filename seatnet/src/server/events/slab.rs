//! The open connections of the event loop, indexed by their `mio` token.

use mio::Token;

use super::conn::Conn;

/// Connections by token; freed slots are reused.
#[derive(Debug, Default)]
pub(super) struct Conns {
    slots: Vec<Option<Conn>>,
    free: Vec<usize>,
}

impl Conns {
    /// The token the next [`insert`](Self::insert) will use.
    pub(super) fn next_token(&self) -> Token {
        Token(self.free.last().copied().unwrap_or(self.slots.len()))
    }

    /// Stores `conn` under [`next_token`](Self::next_token).
    pub(super) fn insert(&mut self, conn: Conn) {
        match self.free.pop() {
            Some(i) => self.slots[i] = Some(conn),
            None => self.slots.push(Some(conn)),
        }
    }

    pub(super) fn get_mut(&mut self, token: Token) -> Option<&mut Conn> {
        self.slots.get_mut(token.0)?.as_mut()
    }

    pub(super) fn remove(&mut self, token: Token) -> Option<Conn> {
        let conn = self.slots.get_mut(token.0)?.take()?;
        self.free.push(token.0);
        Some(conn)
    }

    /// The tokens of every open connection.
    pub(super) fn tokens(&self) -> Vec<Token> {
        (self.slots.iter().enumerate())
            .filter(|(_, slot)| slot.is_some())
            .map(|(i, _)| Token(i))
            .collect()
    }
}
